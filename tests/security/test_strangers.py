"""A Telegram user who is not an admin gets one short refusal (once an hour, however many
commands) and the same refusal for every button (whatever tenant it names), and changes
nothing; the admins hear nothing."""

from __future__ import annotations

import pytest

from bot import callbacks as cb
from tests.support.faults import ADMIN, KEY, SECOND_ADMIN, FaultWorld

STRANGER = 55_555
SLUG = "tienda"
COMMANDS = [
    "/start", "/help", "/cancel", "/skip", "/tenants", f"/tenant {SLUG}", "/stats", f"/enable {SLUG}",
    f"/disable {SLUG}", f"/email {SLUG} malo@x.cl", f"/model {SLUG} gpt-4o", f"/invite {SLUG}", f"/logout {SLUG}",
    f"/delete {SLUG}", f"/qr {SLUG}", f"/pair {SLUG} 56911112222", f"/settings {SLUG}", f"/key {SLUG}", f"/hours {SLUG}",
    f"/prompt {SLUG}", f"/newtenant otra ana@sol.cl {KEY}", "/newtenant", "hola", "sk-test-" + "x" * 30,
]
CALLBACKS = [
    cb.data(cb.CARD, SLUG), cb.data(cb.PAGE, "", "2"), cb.data(cb.ENABLE, SLUG), cb.data(cb.DISABLE, SLUG),
    cb.data(cb.QR, SLUG), cb.data(cb.PAIR, SLUG), cb.data(cb.LOGOUT, SLUG), cb.data(cb.LOGOUT_OK, SLUG),
    cb.data(cb.INVITE, SLUG), cb.data(cb.ROTATE, SLUG), cb.data(cb.ROTATE_OK, SLUG), cb.data(cb.DELETE, SLUG),
    cb.data(cb.DELETE_OK, SLUG), cb.data(cb.DISMISS), cb.data(cb.SETTING_TOGGLE, SLUG, "groups_enabled"),
    cb.data(cb.SETTING_VALUE, SLUG, "debounce_seconds"), cb.data(cb.NEWTENANT, "", "ok"), cb.data(cb.KEY_KEEP, SLUG),
]


@pytest.fixture
async def world(tmp_path):
    async with FaultWorld(tmp_path, with_admin_bot=True) as world:
        await world.add_tenant(SLUG, name="Tienda Sol")
        yield world


async def test_a_stranger_is_refused_every_command_and_button_and_changes_nothing(world):
    telegram, tenants = world.telegram, world.puente.tenants
    before = await tenants.get(SLUG)
    for command in COMMANDS:
        telegram.push_message(STRANGER, command)
    await telegram.wait_updates_consumed(timeout=10)
    refusal = await telegram.wait_for_message(STRANGER, timeout=10)
    for data in CALLBACKS:
        telegram.push_callback(STRANGER, refusal.message_id, data)
    await telegram.wait_updates_consumed(timeout=10)
    answers = await telegram.wait_for_call(
        "answerCallbackQuery", lambda c: len(telegram.calls("answerCallbackQuery")) >= len(CALLBACKS), timeout=10)
    assert answers is not None

    bodies = [m.body for m in telegram.messages_in(STRANGER)]
    assert bodies == ["Este bot es privado."]  # one short refusal for the whole burst
    assert "Tienda" not in bodies[0] and SLUG not in bodies[0]
    assert all(not m.buttons for m in telegram.messages_in(STRANGER))
    alerts = {c.params.get("text") for c in telegram.calls("answerCallbackQuery")}
    assert alerts == {bodies[0]}  # every button answered with the same refusal
    for method in ("editMessageText", "editMessageReplyMarkup", "sendPhoto", "deleteMessage"):
        assert not [c for c in telegram.calls(method) if str(c.params.get("chat_id")) == str(STRANGER)]
    assert telegram.messages_in(ADMIN) == [] and telegram.messages_in(SECOND_ADMIN) == []
    after = await tenants.get(SLUG)
    assert after == before
    assert [t.slug for t in await tenants.all()] == [SLUG]
    assert not world.puente.supervisor.is_running(SLUG)
