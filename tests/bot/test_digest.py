"""The operators' daily digest: yesterday per tenant (messages, new customers, handoffs,
OpenAI errors, spend), tenants whose WhatsApp is not connected first, at DIGEST_TIME in
DEFAULT_TIMEZONE once a day, and now on /digest; long digests split between tenants.

The clock is Wednesday 2 December 2026, 10:59 UTC: 07:59 in Santiago (UTC-3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.digest import split_messages
from relay.chats import open_chats
from relay.handoffs import HandoffBy, open_handoffs
from relay.message_log import MessageStatus, open_message_log
from relay.openai_errors import open_openai_errors
from relay.protocol import Message
from relay.usage import TokenUsage
from tests.support.bot import ADMIN, OTHER_ADMIN, BotRig
from tests.support.clock import FakeClock

NOW = datetime(2026, 12, 2, 10, 59, tzinfo=UTC)
YESTERDAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
SANTIAGO = {"default_timezone": "America/Santiago"}

SOL = ("<b>Tienda Sol</b> (<code>sol</code>)\n"
       "Mensajes: 3 recibidos, 2 respondidos\n"
       "Clientes nuevos: 2\n"
       "Derivaciones: 1 por el dueño, 2 por el asistente; 1 abiertas ahora\n"
       "Errores de OpenAI: 1\n"
       "Gasto: US$ 2,00 ayer, US$ 3,00 en el mes")
LUNA = ("🔴 <b>Luna</b> (<code>luna</code>) — WhatsApp no conectado (stopped)\n"
        "Mensajes: 0 recibidos, 0 respondidos\n"
        "Clientes nuevos: 0\n"
        "Derivaciones: 0 por el dueño, 0 por el asistente; 0 abiertas ahora\n"
        "Errores de OpenAI: 0\n"
        "Gasto: US$ 0,00 ayer, US$ 0,00 en el mes")
DIGEST = "📰 <b>Resumen de ayer</b>, 2026-12-01 (día UTC)\n\n" + LUNA + "\n\n" + SOL


async def _rig(store, tmp_path, **settings) -> BotRig:
    return await BotRig(store, tmp_path / "data", clock=FakeClock(NOW), settings={**SANTIAGO, **settings}).start()


@pytest.fixture
async def rig(store, tmp_path):
    rig = await _rig(store, tmp_path)
    yield rig
    await rig.stop()


async def _yesterday(rig):
    """sol (connected): 3 messages in and 2 answered yesterday, 2 new customers, handoffs,
    an OpenAI error and $2 of usage (and $1 today, in the month so far; $1 last month, in
    neither); luna: its WhatsApp stopped, nothing else."""
    await rig.add_tenant("sol")
    await rig.add_tenant("luna", name="Luna")
    await rig.connect_bridge("sol", state="connected")
    log = open_message_log(rig.store.db)
    for n in range(3):
        message = Message(type="message", id=f"m{n}", chat=f"5691111000{n}@s.whatsapp.net", kind="text", text="hola")
        await log.record("sol", message, customer=True, now=YESTERDAY)
        if n < 2:
            await log.settle("sol", message.chat, [message.id], MessageStatus.ANSWERED, YESTERDAY)
    await log.record("sol", Message(type="message", id="today", chat="x@s.whatsapp.net", kind="text", text="hoy"),
                     customer=True, now=NOW)
    handoffs = open_handoffs(rig.store.db)
    await handoffs.record_new_customer("sol", YESTERDAY)
    await handoffs.record_new_customer("sol", YESTERDAY)
    await handoffs.record_new_customer("sol", NOW)
    await handoffs.record("sol", HandoffBy.OWNER, YESTERDAY)
    await handoffs.record("sol", HandoffBy.ASSISTANT, YESTERDAY)
    await handoffs.record("sol", HandoffBy.ASSISTANT, YESTERDAY)
    chats = open_chats(rig.store.db)
    await chats.touch_customer("sol", "56911110000@s.whatsapp.net", YESTERDAY, None, None)
    await chats.start_handoff("sol", "56911110000@s.whatsapp.net", YESTERDAY)
    await open_openai_errors(rig.store.db).record("sol", "rate_limit", YESTERDAY)
    await rig.usage.add_response("sol", "gpt-4.1-mini", TokenUsage(1_000_000, 0, 1_000_000), YESTERDAY)
    await rig.usage.add_response("sol", "gpt-4.1-mini", TokenUsage(500_000, 0, 500_000),
                                 datetime(2026, 11, 30, 23, 0, tzinfo=UTC))  # last month: not counted
    await rig.usage.add_response("sol", "gpt-4.1-mini", TokenUsage(500_000, 0, 500_000), NOW)  # the month so far


async def _digests(rig, admin: int = ADMIN) -> list[str]:
    return [m.body for m in rig.telegram.messages_in(admin) if m.body.startswith("📰")]


async def test_the_digest_shows_each_tenants_yesterday_with_the_disconnected_one_first(rig):
    await _yesterday(rig)
    await rig.bot.digest.run_digest(rig.clock.now())
    message = await rig.wait_for(lambda m: m.body.startswith("📰"), user=OTHER_ADMIN)
    assert message.body == DIGEST
    assert await _digests(rig) == [DIGEST]


async def test_the_digest_goes_at_eight_in_the_default_zone_once_a_day(rig):
    await _yesterday(rig)
    digest = rig.bot.digest
    assert not await digest.daily.tick()  # 07:59 in Santiago
    assert await _digests(rig) == []
    rig.clock.advance(minutes=1)
    assert await digest.daily.tick()
    await rig.wait_for(lambda m: m.body.startswith("📰"))
    rig.clock.advance(hours=23, minutes=59)
    assert not await digest.daily.tick()  # not twice the same day
    assert await _digests(rig) == [DIGEST]
    rig.clock.advance(minutes=1)
    assert await digest.daily.tick()
    await rig.wait_for(lambda m: m.body.startswith("📰 <b>Resumen de ayer</b>, 2026-12-02"))
    assert len(await _digests(rig)) == 2


async def test_slash_digest_sends_it_now_to_the_admin_who_asked_in_their_language(rig):
    await _yesterday(rig)
    answer = await rig.say("/digest", lang="en")
    assert answer.body == (
        "📰 <b>Yesterday's digest</b>, 2026-12-01 (UTC day)\n\n"
        "🔴 <b>Luna</b> (<code>luna</code>) — WhatsApp not connected (stopped)\n"
        "Messages: 0 in, 0 answered\nNew customers: 0\n"
        "Handoffs: 0 by the owner, 0 by the assistant; 0 open now\nOpenAI errors: 0\n"
        "Spend: US$ 0.00 yesterday, US$ 0.00 this month\n\n"
        "<b>Tienda Sol</b> (<code>sol</code>)\n"
        "Messages: 3 in, 2 answered\nNew customers: 2\n"
        "Handoffs: 1 by the owner, 2 by the assistant; 1 open now\nOpenAI errors: 1\n"
        "Spend: US$ 2.00 yesterday, US$ 3.00 this month")
    assert await _digests(rig, OTHER_ADMIN) == []


async def test_a_long_digest_is_split_between_tenants_and_nothing_is_lost(rig):
    slugs = [f"tienda-{n:02d}" for n in range(40)]
    for slug in slugs:
        await rig.add_tenant(slug, name=f"Tienda número {slug} " + "x" * 50)
    await rig.say("/digest")
    await rig.wait_for(lambda m: "tienda-39" in m.body)
    parts = await _digests(rig) + [m.body for m in rig.telegram.messages_in(ADMIN)
                                   if m.body.startswith("🔴") and "tienda-" in m.body]
    assert len(parts) > 1 and all(len(part) <= 4096 for part in parts)
    blocks = "\n\n".join(parts).split("\n\n")
    assert [b.split("<code>")[1].split("</code>")[0] for b in blocks[1:]] == slugs
    assert all(len(block.splitlines()) == 6 for block in blocks[1:])  # every tenant whole, in one message


def test_a_single_oversized_block_is_split_between_its_lines_never_cut_short():
    block = "\n".join(f"línea {n} " + "y" * 90 for n in range(100))
    parts = split_messages(["título", block, "otro cliente"], limit=1000)
    assert all(len(part) <= 1000 for part in parts)
    assert "\n".join(parts).replace("título\n\n", "título\n").replace("\n\notro", "\notro") \
        == "título\n" + block + "\notro cliente"
    assert all(line.startswith(("línea", "título", "otro")) for part in parts for line in part.splitlines() if line)


async def test_an_empty_digest_time_sends_no_digest(store, tmp_path):
    rig = await _rig(store, tmp_path, digest_time="")
    try:
        await _yesterday(rig)
        for _ in range(3):
            rig.clock.advance(hours=12)
            assert not await rig.bot.digest.daily.tick()
        assert await _digests(rig) == []
    finally:
        await rig.stop()


def test_a_budget_is_read_from_the_tenant_when_budgets_exist_and_ignored_otherwise():
    from types import SimpleNamespace

    from bot.digest import monthly_budget
    assert monthly_budget(SimpleNamespace(budget=SimpleNamespace(usd=10.0), settings=None)) == 10.0
    assert monthly_budget(SimpleNamespace(budget=None, settings=SimpleNamespace())) is None
    assert monthly_budget(SimpleNamespace(settings=SimpleNamespace())) is None
