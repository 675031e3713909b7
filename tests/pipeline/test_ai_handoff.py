"""The assistant hands a chat to a person (its `handoff_to_human` function tool).

The shapes are the Responses API's as the installed SDK types them (openai 3.57):
types/responses/function_tool_param.py (FunctionToolParam: type, name, description,
parameters, strict), response_function_tool_call.py (the `function_call` output item:
call_id, name, arguments as a JSON string), response_input_item_param.py
(FunctionCallOutput: type, call_id, output) and resources/conversations/items.py
(conversations.items.create, up to 20 input items). The fake OpenAI refuses, as OpenAI
does, a request in a conversation that holds a call without its output.
"""

from __future__ import annotations

import pytest

from core.events import AlertKind
from relay.chats import PauseKind
from tests.fakes import FunctionCall
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, OWNER_CHAT

HANDOFF_TEXT = "Te comunico con una persona del equipo. Te responderán pronto."


def texts(bridge, chat):
    return [s["text"] for s in bridge.sent if s["chat"] == chat]


def asks_for_a_person(request):
    """The model: a handoff when the customer asks for a person, an answer otherwise."""
    if "persona" in request.user_text:
        return FunctionCall("handoff_to_human", {"reason": "pide hablar con una persona"},
                            text=asks_for_a_person.words)
    return "Respuesta a: " + request.user_text


async def _handed_off(rig, words: str = ""):
    asks_for_a_person.words = words
    rig.openai.reply = asks_for_a_person
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "quiero hablar con una persona", push_name="Ana")
    await bridge.wait_for_sent(lambda s: s["chat"] == OWNER_CHAT)
    await rig.idle()
    return bridge


@pytest.mark.parametrize("words", ["Claro, ya te comunico con alguien del equipo.", ""])
async def test_a_customer_asking_for_a_person_is_handed_to_the_owner_until_reactivar(rig, words):
    await rig.add_tenant()
    bridge = await _handed_off(rig, words)
    assert texts(bridge, CUSTOMER_CHAT) == [words or HANDOFF_TEXT]
    [notice] = texts(bridge, OWNER_CHAT)
    assert f"Ana (+{CUSTOMER})" in notice and "pide hablar con una persona" in notice and "reactivar" in notice
    assert (await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)).pause_kind is PauseKind.HANDOFF

    await bridge.send_message(CUSTOMER, "¿hola? ¿alguien?")
    await rig.idle()
    assert len(texts(bridge, CUSTOMER_CHAT)) == 1  # the bot stays quiet: a person answers now
    assert len(texts(bridge, OWNER_CHAT)) == 1  # told once per handoff

    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER_CHAT, "reactivar", from_me=True))
    await rig.idle()
    await bridge.send_message(CUSTOMER, "gracias, ¿y el horario?")
    await bridge.wait_for_sent(lambda s: s["text"] == "Respuesta a: gracias, ¿y el horario?")


async def test_the_conversation_keeps_working_after_the_handoff_call(rig):
    await rig.add_tenant()
    bridge = await _handed_off(rig)
    call = rig.openai.last_request.function_call
    history = rig.openai.conversations[rig.openai.last_request.conversation]
    outputs = [item for item in history if item.get("type") == "function_call_output"]
    assert [item["call_id"] for item in outputs] == [call.call_id]  # the call is answered in the conversation
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER_CHAT, "reactivar", from_me=True))
    await rig.idle()
    await bridge.send_message(CUSTOMER, "¿siguen ahí?")
    await bridge.wait_for_sent(lambda s: s["text"] == "Respuesta a: ¿siguen ahí?")
    follow_up = rig.openai.last_request
    assert follow_up.conversation == rig.openai.response_requests[0].conversation  # the same conversation
    assert any(item.get("call_id") == call.call_id for item in follow_up.history)


async def test_the_tool_is_offered_only_while_ai_handoff_is_on(rig):
    await rig.add_tenant(ai_handoff=False)
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "hola")
    await bridge.wait_for_sent(lambda s: s["chat"] == CUSTOMER_CHAT)
    assert "tools" not in rig.openai.last_request.body
    await rig.tenants.update_settings("panaderia", "test", ai_handoff=True)
    await rig.settle()
    await bridge.send_message(CUSTOMER, "otra pregunta")
    await bridge.wait_for_sent(lambda s: s["chat"] == CUSTOMER_CHAT, count=2)
    [tool] = rig.openai.last_request.tools
    assert (tool["type"], tool["name"], tool["strict"]) == ("function", "handoff_to_human", True)
    assert tool["parameters"]["required"] == ["reason"] and "person" in tool["description"]


@pytest.mark.parametrize("notify", [True, False])
async def test_the_operators_hear_of_a_handoff_only_when_they_asked(rig, notify):
    await rig.add_tenant(notify_operator_on_handoff=notify)
    await _handed_off(rig)
    await rig.settle()
    handoffs = [a for a in rig.alerts if a.kind == AlertKind.AI_HANDOFF]
    if notify:
        [alert] = handoffs
        assert alert.detail == {"chat": CUSTOMER_CHAT, "reason": "pide hablar con una persona"}
    else:
        assert handoffs == []


async def test_stats_count_handoffs_by_the_assistant_and_by_the_owner(rig):
    await rig.add_tenant()
    bridge = await _handed_off(rig)
    other = "5491144445555@s.whatsapp.net"
    await bridge.send_message("5491144445555", "hola")
    await bridge.wait_for_sent(lambda s: s["chat"] == other)
    await bridge.wait_for_ack(await bridge.send_message(other, "Hola, te atiendo yo", from_me=True))
    await rig.idle()
    totals = await rig.stats.totals()
    assert (totals.handoffs_by_assistant_today, totals.handoffs_by_owner_today) == (1, 1)
    assert (totals.handoffs_by_assistant_7d, totals.handoffs_by_owner_7d) == (1, 1)


async def test_the_owners_silence_gives_the_chat_back_after_handoff_hours(rig):
    await rig.add_tenant(handoff_hours=12)
    bridge = await _handed_off(rig)
    rig.clock.advance(hours=11)
    await bridge.send_message(CUSTOMER, "¿me atienden?")
    await rig.idle()
    assert len(texts(bridge, CUSTOMER_CHAT)) == 1  # still with a person
    rig.clock.advance(hours=2)  # the owner said nothing for 13 hours since the handoff
    await bridge.send_message(CUSTOMER, "¿hola?")
    await bridge.wait_for_sent(lambda s: s["text"] == "Respuesta a: ¿hola?")
