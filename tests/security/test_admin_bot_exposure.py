"""The admin bot shows nothing outside an admin's private chat, refuses a stranger once an
hour (not once per message), and deletes a message shaped like an OpenAI key that no step
asked for."""

from __future__ import annotations

import pytest

from tests.support.bot import ADMIN, STRANGER, VALID_KEY, BotRig
from tests.support.clock import FakeClock

GROUP = -100_4242
PRIVATE_ONLY = "Solo atiendo en el chat privado conmigo; aquí no muestro nada."
STRAY_KEY_NOTE = "🔒 Borré tu mensaje: parecía una clave de OpenAI. Para cambiar una clave usa /key."


@pytest.fixture
async def rig(store, tmp_path):
    rig = BotRig(store, tmp_path / "data", clock=FakeClock())
    await rig.start()
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    yield rig
    await rig.stop()


async def test_a_stranger_is_refused_once_an_hour_however_many_messages(rig):
    telegram = rig.telegram
    for text in ("/start", "/tenants", "hola", "/tenant tienda-sol", "¿hay alguien?"):
        telegram.push_message(STRANGER, text)
    await telegram.wait_updates_consumed(timeout=10)
    await rig.say("/help")  # the bot is past the stranger's updates: their answers would be out

    assert [m.body for m in telegram.messages_in(STRANGER)] == ["Este bot es privado."]

    rig.clock.advance(minutes=59)
    telegram.push_message(STRANGER, "/tenants")
    await telegram.wait_updates_consumed(timeout=10)
    await rig.say("/help")
    assert len(telegram.messages_in(STRANGER)) == 1

    rig.clock.advance(minutes=2)
    again = await rig.say("/tenants", user=STRANGER)
    assert again.body == "Este bot es privado." and len(telegram.messages_in(STRANGER)) == 2


async def test_an_admin_command_in_a_group_gets_one_line_and_no_landing_link(rig):
    telegram = rig.telegram
    for text in ("/tenant tienda-sol", "/tenants", "/newtenant"):
        telegram.push_message(ADMIN, text, chat_id=GROUP)
    telegram.push_message(ADMIN, "buenos días a todos", chat_id=GROUP)
    await telegram.wait_updates_consumed(timeout=10)
    await rig.say("/help")

    in_group = [m.body for m in telegram.messages_in(GROUP)]
    assert in_group == [PRIVATE_ONLY] * 3  # one line per command; the chatter gets nothing
    assert not [c for c in telegram.all_calls if str(c.params.get("chat_id")) == str(GROUP)
                and ("tienda-sol" in str(c.params) or "Tienda Sol" in str(c.params))]


async def test_a_card_button_tapped_in_a_group_shows_nothing_there(rig):
    telegram = rig.telegram
    card = await rig.say("/tenant tienda-sol")
    # The admin forwards nothing; a button that somehow sits in a group is tapped there.
    telegram.push_message(ADMIN, "/help", chat_id=GROUP)
    await rig.wait_for(lambda m: True, user=GROUP)
    group_message = telegram.messages_in(GROUP)[0]
    telegram.push_callback(ADMIN, group_message.message_id, card.callback_data("🔄 Reemitir enlace"), chat_id=GROUP)
    answer = await telegram.wait_for_call("answerCallbackQuery")

    assert answer.params["text"] == PRIVATE_ONLY
    await telegram.wait_updates_consumed(timeout=10)
    assert [m.body for m in telegram.messages_in(GROUP)] == [PRIVATE_ONLY]


async def test_a_key_sent_outside_a_key_step_is_deleted_with_a_note(rig):
    telegram = rig.telegram
    message_id = telegram.push_message(ADMIN, f"la clave nueva es {VALID_KEY}")
    note = await rig.wait_for(lambda m: m.body == STRAY_KEY_NOTE)

    assert telegram.message(ADMIN, message_id).deleted
    assert VALID_KEY not in str([m.body for m in telegram.messages_in(ADMIN)])
    assert telegram.messages_in(ADMIN) == [note]  # one line, not "I'm not waiting for anything" too


async def test_a_key_pasted_in_a_group_is_deleted_there(rig):
    telegram = rig.telegram
    message_id = telegram.push_message(ADMIN, VALID_KEY, chat_id=GROUP)
    await rig.wait_for(lambda m: m.body == STRAY_KEY_NOTE, user=GROUP)

    assert telegram.message(GROUP, message_id).deleted


async def test_a_key_sent_while_the_flow_asks_for_one_is_taken(rig):
    asked = await rig.say("/key tienda-sol")
    assert "Envía la nueva clave" in asked.body
    saved = await rig.say(VALID_KEY)
    saved = await rig.wait_for(lambda m: "guardada" in (m.body or ""))

    assert "Clave de Tienda Sol guardada" in saved.body
    assert STRAY_KEY_NOTE not in [m.body for m in rig.telegram.messages_in(ADMIN)]


async def test_a_key_sent_as_the_tenants_name_is_not_stored(rig):
    await rig.say("/newtenant")
    note = await rig.say(VALID_KEY)  # the flow asks for the business's name here

    assert note.body == STRAY_KEY_NOTE
    assert await rig.tenants.find(VALID_KEY) is None
    named = await rig.say("Panadería Luna")
    assert "Identificador para Panadería Luna" in named.body  # still at the name step
