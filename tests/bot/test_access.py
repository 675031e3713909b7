"""Only the configured admins may use the bot."""

from __future__ import annotations

from tests.support.bot import ADMIN, OTHER_ADMIN, STRANGER


async def test_help_lists_the_commands_in_the_admins_language(rig):
    reply = await rig.say("/help", lang="en")
    assert "/newtenant" in reply.body and "List the tenants" in reply.body
    reply = await rig.say("/start")
    assert "Lista de clientes" in reply.body


async def test_command_menu_is_set_only_in_each_admins_chat(rig):
    scopes = set(rig.telegram.commands)
    assert ("chat:%d" % ADMIN, "") in scopes and ("chat:%d" % OTHER_ADMIN, "en") in scopes
    assert not any(scope.startswith("default") for scope, _ in scopes)
    names = [c["command"] for c in rig.telegram.commands[("chat:%d" % ADMIN, "")]]
    assert names[:3] == ["start", "help", "newtenant"] and "cancel" in names


async def test_stranger_gets_one_short_refusal_and_sees_no_tenants(rig, caplog):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    reply = await rig.say("/tenants", user=STRANGER)
    assert reply.body == "Este bot es privado."
    await rig.telegram.wait_updates_consumed()
    assert len(rig.telegram.messages_in(STRANGER)) == 1
    assert str(STRANGER) in caplog.text


async def test_stranger_tapping_a_button_is_refused_and_nothing_changes(rig):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    card = await rig.say("/tenant tienda-sol")
    stored = await rig.tenants.find("tienda-sol")
    # The stranger replays the admin's button payload in their own chat.
    rig.telegram.push_message(STRANGER, "hola")
    await rig.wait_for(lambda m: True, user=STRANGER)
    rig.telegram.push_update({"callback_query": {
        "id": "77", "from": {"id": STRANGER, "is_bot": False, "first_name": "Eve"}, "chat_instance": "x",
        "data": card.callback_data("🗑 Eliminar"),
        "message": rig.telegram.messages_in(STRANGER)[0].to_api({"id": STRANGER, "type": "private"})}})
    answer = await rig.telegram.wait_for_call("answerCallbackQuery", lambda c: c.params.get("callback_query_id") == "77")
    assert answer.params["text"] == "Este bot es privado."
    await rig.telegram.wait_updates_consumed()
    assert (await rig.tenants.find("tienda-sol")) == stored
    assert len(rig.telegram.messages_in(STRANGER)) == 1  # the refusal to "hola" only


async def test_is_polling_follows_start_and_stop(rig):
    assert rig.bot.is_polling
    await rig.bot.stop()
    assert not rig.bot.is_polling
