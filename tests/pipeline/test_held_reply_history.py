"""A reply held because the owner took over while OpenAI was generating (issue #17, item 1)
is taken out of the chat's OpenAI conversation, so that once the bot resumes the model does
not believe the customer read it. The customer's words stay, and so do function calls with
their outputs (a conversation refuses every request while a call lacks its output).

What the model will see is read where OpenAI keeps it: the history the fake OpenAI holds for
the conversation when the next turn's request arrives. The deletion is the Conversations API's
DELETE /v1/conversations/{conversation_id}/items/{item_id} (OpenAPI operation
deleteConversationItem, openai/openai-openapi f85dbe2: 200 with the Conversation object;
the SDK's `conversations.items.delete(item_id, conversation_id=...)`, openai 3.57).
"""

from __future__ import annotations

import asyncio
import logging

import openai
import pytest

from relay.assistant import Assistant, RetryPolicy
from relay.assistant.responses_api import ResponsesApi
from tests.fakes import FunctionCall
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, KEY

FIRST = "¿tienen pan sin gluten?"
SECOND = "¿y sin azúcar?"


def texts(bridge, chat):
    return [s["text"] for s in bridge.sent if s["chat"] == chat]


def transcript(items):
    """A conversation's items as (role, text) for messages and (type, call_id) for the rest."""
    said = []
    for item in items:
        if item.get("type", "message") != "message":
            said.append((item["type"], item.get("call_id")))
            continue
        content = item["content"]
        text = content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)
        said.append((item["role"], text))
    return said


class SlowReply:
    """The model answers only once the test lets it ("the bot is typing…" meanwhile)."""

    def __init__(self, answer=lambda request: "Respuesta a: " + request.user_text) -> None:
        self.answer = answer
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, request):
        if request.user_text == FIRST:
            self.started.set()
            await self.release.wait()
        return self.answer(request)


async def _owner_pauses_while_generating(rig, reply: SlowReply, bridge=None):
    """The customer asks FIRST; the owner types `pausar` while OpenAI is generating."""
    rig.openai.reply = reply
    bridge = bridge or await rig.connect()
    await bridge.send_message(CUSTOMER, FIRST)
    await asyncio.wait_for(reply.started.wait(), 5)
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER_CHAT, "pausar", from_me=True))
    await rig.wait_for(lambda: rig.pipeline.inboxes.busy() == 0)
    return bridge


async def _resume_and_ask_again(rig, bridge):
    """The owner types `reactivar`; the customer asks SECOND and is answered."""
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER_CHAT, "reactivar", from_me=True))
    await rig.idle()
    await bridge.send_message(CUSTOMER, SECOND)
    await bridge.wait_for_sent(lambda s: s["chat"] == CUSTOMER_CHAT and SECOND in s["text"])
    await rig.idle()
    return rig.openai.last_request


async def test_reply_held_by_a_pause_is_not_in_the_history_when_the_bot_resumes(rig):
    await rig.add_tenant()
    reply = SlowReply()
    bridge = await _owner_pauses_while_generating(rig, reply)
    reply.release.set()
    await rig.idle()
    assert texts(bridge, CUSTOMER_CHAT) == []  # held: the customer never saw it

    request = await _resume_and_ask_again(rig, bridge)
    assert request.user_text == SECOND
    assert transcript(request.history) == [("user", FIRST)]  # the customer's words, no answer to them
    assert transcript(rig.openai.conversations[request.conversation]) == [
        ("user", FIRST), ("user", SECOND), ("assistant", "Respuesta a: " + SECOND)]
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: " + SECOND]


async def test_delivered_replies_stay_in_the_history_around_a_held_one(rig):
    await rig.add_tenant()
    rig.openai.reply = lambda request: "Respuesta a: " + request.user_text
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "hola")
    await bridge.wait_for_sent(lambda s: s["chat"] == CUSTOMER_CHAT)
    await rig.idle()
    reply = SlowReply()
    await _owner_pauses_while_generating(rig, reply, bridge)
    reply.release.set()
    await rig.idle()

    request = await _resume_and_ask_again(rig, bridge)
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: hola", "Respuesta a: " + SECOND]
    assert transcript(request.history) == [
        ("user", "hola"), ("assistant", "Respuesta a: hola"), ("user", FIRST)]


@pytest.mark.parametrize("reasoning", [False, True])
async def test_held_handoff_keeps_the_call_and_its_output_but_not_its_words(rig, reasoning):
    await rig.add_tenant(ai_handoff=True)
    rig.openai.reasoning = reasoning  # the reasoning item leads to the call: it stays with it
    call = FunctionCall("handoff_to_human", {"reason": "pide una persona"}, text="Ya te paso con alguien.")
    reply = SlowReply(lambda request: call if request.user_text == FIRST else "Respuesta a: " + request.user_text)
    bridge = await _owner_pauses_while_generating(rig, reply)
    reply.release.set()
    await rig.idle()
    assert texts(bridge, CUSTOMER_CHAT) == []

    request = await _resume_and_ask_again(rig, bridge)  # refused by OpenAI if the call had lost its output
    assert transcript(request.history) == [("user", FIRST)] + [("reasoning", None)] * reasoning + [
        ("function_call", call.call_id), ("function_call_output", call.call_id)]
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: " + SECOND]


async def test_held_reply_of_a_reasoning_model_takes_its_reasoning_along(rig):
    await rig.add_tenant()
    # OpenAI refuses a conversation holding a reasoning item without the message it led to:
    # "Item 'rs_...' of type 'reasoning' was provided without its required following item."
    # (reported against the Conversations API in openai/openai-agents-js#929).
    rig.openai.reasoning = True
    reply = SlowReply()
    bridge = await _owner_pauses_while_generating(rig, reply)
    reply.release.set()
    await rig.idle()

    request = await _resume_and_ask_again(rig, bridge)
    assert transcript(request.history) == [("user", FIRST)]
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: " + SECOND]  # not the "technical problem" notice


async def test_failing_to_take_back_a_held_reply_is_logged_once_and_the_chat_goes_on(rig, caplog):
    caplog.set_level(logging.INFO)
    await rig.add_tenant()
    reply = SlowReply()
    bridge = await _owner_pauses_while_generating(rig, reply)
    # The conversation exists by now: the next conversation calls are the deletion and its retry.
    rig.openai.fail_next("500", 2, endpoint="conversations")
    reply.release.set()
    await rig.idle()
    assert rig.openai.failures == [("conversations", "500")] * 2
    [line] = [r.getMessage() for r in caplog.records
              if r.levelno >= logging.WARNING and "held reply" in r.getMessage()]
    assert "tenant panaderia" in line and "HTTP 500" in line
    assert not any(KEY in r.getMessage() for r in caplog.records)

    request = await _resume_and_ask_again(rig, bridge)
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: " + SECOND]
    # The held answer stayed at OpenAI: the one thing this failure costs.
    assert transcript(request.history) == [("user", FIRST), ("assistant", "Respuesta a: " + FIRST)]


async def test_taking_back_an_item_already_gone_counts_as_done(openai_fake):
    client = openai.AsyncOpenAI(base_url=f"{openai_fake.url}/v1", api_key=KEY, max_retries=0)
    responses = ResponsesApi(timeout=5.0, connect_timeout=5.0)  # take_back never uses it
    assistant = Assistant("gpt-4o-mini-transcribe", responses, RetryPolicy(attempts=2, base_delay=0.01))
    try:
        conversation = await client.conversations.create()
        response = await client.responses.create(model="gpt-4.1-mini", conversation=conversation.id, input="hola")
        [message] = response.output
        await assistant.take_back(client, conversation.id, (message.id,))
        assert transcript(openai_fake.conversations[conversation.id]) == [("user", "hola")]
        again = await client.responses.create(model="gpt-4.1-mini", conversation=conversation.id, input="chau")
        deleted = await client.conversations.items.delete(again.output[0].id, conversation_id=conversation.id)
        assert (deleted.id, deleted.object) == (conversation.id, "conversation")  # ConversationResource
        with pytest.raises(openai.NotFoundError):  # as OpenAI answers an unknown item
            await client.conversations.items.delete(message.id, conversation_id=conversation.id)
        await assistant.take_back(client, conversation.id, (message.id,))  # gone already: done
        await client.conversations.delete(conversation.id)
        await assistant.take_back(client, conversation.id, (message.id,))  # its conversation too
    finally:
        await client.close()
        await responses.close()
    deletes = [path for method, path in openai_fake.requests if method == "DELETE" and "/items/" in path]
    assert len(deletes) == 5 and openai_fake.failures == []  # one call each, a 404 is not retried
