"""The owner controls the bot from their own phone: commands and human handoff."""

from __future__ import annotations

import pytest

from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, OWNER_CHAT, OWNER_PHONE

OTHER = "5491144445555"
OTHER_CHAT = f"{OTHER}@s.whatsapp.net"


def texts(bridge, chat):
    return [s["text"] for s in bridge.sent if s["chat"] == chat]


async def owner_says(rig, bridge, chat, text):
    """The owner types `text` in `chat`; wait until it is handled."""
    mid = await bridge.send_message(chat, text, from_me=True)
    await bridge.wait_for_ack(mid)
    await rig.idle()
    return mid


async def customer_says(rig, bridge, chat, text):
    mid = await bridge.send_message(chat, text)
    await bridge.wait_for_ack(mid)
    await rig.idle()
    return mid


@pytest.fixture
async def bridge(rig):
    await rig.add_tenant()
    return await rig.connect()


@pytest.mark.parametrize("word", ["pausar", "Pause", "  PAUSAR  "])
async def test_owner_pause_stops_replies_in_that_chat_only(rig, bridge, word):
    mid = await owner_says(rig, bridge, CUSTOMER_CHAT, word)
    await customer_says(rig, bridge, CUSTOMER, "¿hola?")
    await customer_says(rig, bridge, OTHER, "¿hola?")
    assert texts(bridge, CUSTOMER_CHAT) == []
    assert texts(bridge, OTHER_CHAT) == ["Respuesta a: ¿hola?"]
    assert texts(bridge, OWNER_CHAT)[0].startswith("⏸️ Bot pausado en el chat con")
    assert {"chat": CUSTOMER_CHAT, "id": mid} in [{"chat": d["chat"], "id": d["id"]} for d in bridge.deletes]


@pytest.mark.parametrize("word", ["reactivar", "resume"])
async def test_owner_resume_answers_that_chat_again(rig, bridge, word):
    await owner_says(rig, bridge, CUSTOMER_CHAT, "pausar")
    await owner_says(rig, bridge, CUSTOMER_CHAT, word)
    await customer_says(rig, bridge, CUSTOMER, "¿siguen ahí?")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: ¿siguen ahí?"]
    assert texts(bridge, OWNER_CHAT)[-1].startswith("▶️ Bot reactivado en el chat con")


async def test_command_is_kept_when_delete_owner_commands_is_off(rig):
    await rig.add_tenant(delete_owner_commands=False)
    bridge = await rig.connect()
    await owner_says(rig, bridge, CUSTOMER_CHAT, "pausar")
    assert bridge.deletes == []
    assert len(texts(bridge, OWNER_CHAT)) == 1


@pytest.mark.parametrize(("pause", "resume"), [("pausar todo", "activar todo"), ("pause all", "resume all")])
async def test_pause_all_pauses_existing_chats_but_answers_new_ones(rig, bridge, pause, resume):
    await customer_says(rig, bridge, CUSTOMER, "hola")
    await owner_says(rig, bridge, OWNER_CHAT, pause)
    await customer_says(rig, bridge, CUSTOMER, "¿hay alguien?")
    await customer_says(rig, bridge, OTHER, "soy nuevo")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: hola"]
    assert texts(bridge, OTHER_CHAT) == ["Respuesta a: soy nuevo"]
    await owner_says(rig, bridge, OWNER_CHAT, resume)
    await customer_says(rig, bridge, CUSTOMER, "¿y ahora?")
    assert texts(bridge, CUSTOMER_CHAT)[-1] == "Respuesta a: ¿y ahora?"
    confirmations = texts(bridge, OWNER_CHAT)
    assert confirmations[0].startswith("⏸️ Bot pausado en todos los chats existentes (1)")
    assert confirmations[1] == "▶️ Bot reactivado en todos los chats (1)."
    assert bridge.deletes == []  # typed in the owner's own chat: nothing to delete


async def test_resume_in_one_chat_after_pause_all_resumes_only_that_chat(rig, bridge):
    await customer_says(rig, bridge, CUSTOMER, "hola")
    await customer_says(rig, bridge, OTHER, "hola")
    await owner_says(rig, bridge, OWNER_CHAT, "pausar todo")
    await owner_says(rig, bridge, CUSTOMER_CHAT, "reactivar")
    await customer_says(rig, bridge, CUSTOMER, "uno")
    await customer_says(rig, bridge, OTHER, "dos")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: hola", "Respuesta a: uno"]
    assert texts(bridge, OTHER_CHAT) == ["Respuesta a: hola"]


@pytest.mark.parametrize(("suspend", "activate"), [("suspender bot", "activar bot"), ("Suspend Bot", "activate bot")])
async def test_suspend_bot_answers_no_one_until_activated_and_keeps_chat_pauses(rig, bridge, suspend, activate):
    await owner_says(rig, bridge, CUSTOMER_CHAT, "pausar")
    await owner_says(rig, bridge, OWNER_CHAT, suspend)
    assert (await rig.tenants.get("panaderia")).suspended is True
    await customer_says(rig, bridge, OTHER, "¿hola?")
    await customer_says(rig, bridge, "5491166667777", "primer mensaje")
    assert rig.openai.responses_created == 0
    await owner_says(rig, bridge, OWNER_CHAT, activate)
    await customer_says(rig, bridge, OTHER, "¿ahora sí?")
    await customer_says(rig, bridge, CUSTOMER, "¿y yo?")
    assert texts(bridge, OTHER_CHAT) == ["Respuesta a: ¿ahora sí?"]
    assert texts(bridge, CUSTOMER_CHAT) == []  # its own pause stays
    confirmations = texts(bridge, OWNER_CHAT)
    assert confirmations[1].startswith("⛔ Bot suspendido")
    assert confirmations[2].startswith("✅ Bot activo otra vez")


@pytest.mark.parametrize("word", ["estado", "Status", "ESTADO"])
async def test_status_reports_to_the_owner_chat_never_to_the_customer(rig, bridge, word):
    await customer_says(rig, bridge, CUSTOMER, "hola")
    await bridge.send_message(OTHER, "hola", push_name="Beto")
    await bridge.wait_for_sent(count=2)
    await owner_says(rig, bridge, OTHER_CHAT, "pausar")
    await owner_says(rig, bridge, OTHER_CHAT, word)
    report = texts(bridge, OWNER_CHAT)[-1]
    assert report.startswith("🤖 Bot activo.")
    assert f"Beto (+{OTHER}) — pausado por ti" in report
    assert report.endswith("Este chat: pausado.")
    assert texts(bridge, OTHER_CHAT) == ["Respuesta a: hola"]


async def test_chat_commands_in_the_owner_chat_are_explained_in_spanish(rig, bridge):
    await owner_says(rig, bridge, OWNER_CHAT, "pausar")
    assert texts(bridge, OWNER_CHAT) == [
        "Este comando se usa dentro del chat de un cliente: escribe «pausar» o «reactivar» en ese chat."]


async def test_command_words_inside_a_sentence_are_an_ordinary_message(rig, bridge):
    await customer_says(rig, bridge, CUSTOMER, "pausar")  # a customer cannot command the bot
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: pausar"]
    await owner_says(rig, bridge, CUSTOMER_CHAT, "no voy a pausar nada")
    assert texts(bridge, OWNER_CHAT) == []
    chat = await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)
    assert chat.pause_kind == "handoff"


async def test_owner_writing_in_a_chat_hands_it_off_until_silent_for_handoff_hours(rig, bridge, clock):
    await customer_says(rig, bridge, CUSTOMER, "hola")
    await owner_says(rig, bridge, CUSTOMER_CHAT, "Hola Ana, te atiendo yo")
    await customer_says(rig, bridge, CUSTOMER, "gracias")
    clock.advance(hours=11)
    await owner_says(rig, bridge, CUSTOMER_CHAT, "¿algo más?")
    clock.advance(hours=11)
    await customer_says(rig, bridge, CUSTOMER, "no, eso es todo")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: hola"]
    clock.advance(hours=1, minutes=1)
    await customer_says(rig, bridge, CUSTOMER, "¿siguen abiertos?")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: hola", "Respuesta a: ¿siguen abiertos?"]


async def test_reactivar_ends_a_handoff_at_once(rig, bridge):
    await owner_says(rig, bridge, CUSTOMER_CHAT, "te atiendo yo")
    await owner_says(rig, bridge, CUSTOMER_CHAT, "reactivar")
    await customer_says(rig, bridge, CUSTOMER, "ok")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: ok"]


async def test_handoff_can_be_turned_off(rig):
    await rig.add_tenant(handoff_enabled=False)
    bridge = await rig.connect()
    await owner_says(rig, bridge, CUSTOMER_CHAT, "te atiendo yo")
    await customer_says(rig, bridge, CUSTOMER, "ok")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: ok"]


async def test_pauses_survive_a_relay_restart(rig, bridge):
    await owner_says(rig, bridge, CUSTOMER_CHAT, "pausar")
    await owner_says(rig, bridge, OTHER_CHAT, "te atiendo yo")
    await bridge.stop()
    await rig.restart()
    fresh = await rig.connect()
    await customer_says(rig, fresh, CUSTOMER, "¿hola?")
    await customer_says(rig, fresh, OTHER, "¿hola?")
    assert fresh.sent == []
    kinds = {c.chat: c.pause_kind for c in await rig.pipeline.chats.paused("panaderia")}
    assert kinds == {CUSTOMER_CHAT: "manual", OTHER_CHAT: "handoff"}


async def test_owner_self_chat_is_recognised_by_phone(rig, bridge):
    assert rig.pipeline.owner.owner_phone(await rig.tenants.get("panaderia")) == OWNER_PHONE
    await owner_says(rig, bridge, OWNER_CHAT, "hola, nota para mí")
    assert bridge.sent == []
    assert await rig.pipeline.chats.get("panaderia", OWNER_CHAT) is None
