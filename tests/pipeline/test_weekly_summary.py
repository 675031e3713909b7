"""The owner's weekly summary: on Monday at DIGEST_TIME in DEFAULT_TIMEZONE, a tenant whose
`weekly_summary` switch is on gets last week (Monday to Sunday) of its bot in the owner's
own chat; nothing on other days, nothing with the switch off, once per Monday, and a
tenant whose WhatsApp is not connected is skipped with one log line.

DEFAULT_TIMEZONE is America/Santiago (UTC-3 in summer), DIGEST_TIME 08:00 (11:00 UTC).
The clock starts on Thursday 26 November 2026, 12:00 UTC; the week summed is Monday
23 to Sunday 29 November, sent on Monday 30 November."""

from __future__ import annotations

import logging
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from relay.weekly import WeeklySummary, last_week
from tests.fakes import FunctionCall
from tests.support.pipeline import CUSTOMER, OWNER_CHAT

BETO = "5491144445555"
CARLA = "5491166667777"
MONDAY_0700 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 07:00 in Santiago: not yet
SUMMARY = (
    "📊 Resumen semanal de tu bot, del lunes 23/11 al domingo 29/11:\n"
    "• Mensajes de clientes recibidos: 6\n"
    "• Respondidos por el bot: 5\n"
    "• Clientes nuevos: 3\n"
    "• Chats pasados a una persona: 2 (tú tomaste 1, el asistente pasó 1)\n"
    "• Día con más mensajes: viernes 27/11 (3)"
)
QUIET_WEEK = (
    "📊 Resumen semanal de tu bot, del lunes 23/11 al domingo 29/11:\n"
    "• Mensajes de clientes recibidos: 0\n"
    "• Respondidos por el bot: 0\n"
    "• Clientes nuevos: 0\n"
    "• Chats pasados a una persona: 0 (tú tomaste 0, el asistente pasó 0)\n"
    "• No hubo mensajes de clientes esta semana."
)


def model(request):
    """The model: a handoff when the customer asks for a person, an answer otherwise."""
    if "persona" in request.user_text:
        return FunctionCall("handoff_to_human", {"reason": "pide hablar con una persona"})
    return "Respuesta a: " + request.user_text


@pytest.fixture
async def weekly(rig):
    settings = rig.settings.model_copy(update={"default_timezone": "America/Santiago", "digest_time": "08:00"})
    summary = WeeklySummary(pipeline=rig.pipeline, stats=rig.stats, tenants=rig.tenants, states=rig.states,
                            settings=settings, clock=rig.clock)
    await summary.start()
    yield summary
    await summary.stop()


def summaries(bridge) -> list[str]:
    """What the owner's own chat received of weekly summaries."""
    return [s["text"] for s in bridge.sent if s["chat"] == OWNER_CHAT and s["text"].startswith("📊")]


async def say(rig, bridge, number: str, text: str, **fields) -> None:
    await bridge.wait_for_ack(await bridge.send_message(number, text, **fields))
    await rig.idle()


async def advance_to(rig, moment: datetime) -> None:
    rig.clock.advance(seconds=(moment - rig.clock.now()).total_seconds())


async def test_the_owner_gets_last_weeks_figures_in_their_own_chat_on_monday_morning_once(rig, weekly):
    await rig.add_tenant(weekly_summary=True)
    rig.openai.reply = model
    bridge = await rig.connect()
    # Thursday 26: two new customers, both answered.
    await say(rig, bridge, CUSTOMER, "hola")
    await say(rig, bridge, BETO, "buenas")
    # Friday 27, the busiest day: two answers and a third new customer the assistant hands
    # to a person (its reply still goes out, so her message counts as answered).
    await advance_to(rig, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    assert await weekly.daily.tick()  # Friday 08:00 in Santiago: the job runs, and sends nothing
    await say(rig, bridge, CUSTOMER, "¿tienen pan amasado?")
    await say(rig, bridge, BETO, "gracias")
    await say(rig, bridge, CARLA, "quiero hablar con una persona")
    # Saturday 28: the owner takes Beto's chat; Beto's next message is the owner's to answer.
    await advance_to(rig, datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    assert await weekly.daily.tick()
    await say(rig, bridge, f"{BETO}@s.whatsapp.net", "te atiendo yo, Beto", from_me=True)
    await say(rig, bridge, BETO, "ok, espero")
    await advance_to(rig, datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    assert await weekly.daily.tick()  # Sunday
    # Monday 30 before 08:00: a message of this week, not of the one summed.
    await advance_to(rig, MONDAY_0700)
    await say(rig, bridge, CUSTOMER, "hola otra vez")
    assert not await weekly.daily.tick()
    assert summaries(bridge) == []

    rig.clock.advance(hours=1)  # 08:00 in Santiago
    assert await weekly.daily.tick()
    await bridge.wait_for_sent(lambda s: s["text"].startswith("📊"))
    assert summaries(bridge) == [SUMMARY]
    assert [s["chat"] for s in bridge.sent if s["text"] == SUMMARY] == [OWNER_CHAT]  # no customer sees it

    rig.clock.advance(hours=2)
    assert not await weekly.daily.tick()  # not twice the same day
    await weekly.run(rig.clock.now())  # even run again, the same week's summary is not sent twice
    await rig.idle()
    rig.clock.advance(days=1)
    assert await weekly.daily.tick()  # Tuesday: the job runs, and sends nothing
    await rig.idle()
    assert summaries(bridge) == [SUMMARY]


async def test_only_connected_owners_who_turned_it_on_get_it_and_a_quiet_week_says_so(rig, weekly, caplog):
    await rig.add_tenant("panaderia", weekly_summary=True)
    await rig.add_tenant("ferreteria")  # the switch is off by default
    await rig.add_tenant("libreria", weekly_summary=True)  # its WhatsApp never connected
    quiet = await rig.connect("panaderia")
    off = await rig.connect("ferreteria", phone="5491177770000")
    await say(rig, off, CUSTOMER, "¿tienen tornillos?")

    await advance_to(rig, datetime(2026, 11, 30, 11, 0, tzinfo=UTC))
    with caplog.at_level(logging.INFO, logger="relay.weekly"):
        assert await weekly.daily.tick()
    await quiet.wait_for_sent(lambda s: s["text"].startswith("📊"))
    await rig.idle()
    assert summaries(quiet) == [QUIET_WEEK]
    assert [s["text"] for s in off.sent if s["text"].startswith("📊")] == []
    skipped = [r.getMessage() for r in caplog.records if "libreria" in r.getMessage()]
    assert skipped == ["tenant libreria: weekly summary skipped, WhatsApp is stopped"]


@pytest.mark.parametrize(("zone", "now", "monday"), [
    # 08:00 on Monday in Tokyo is still Sunday in UTC: the week is Tokyo's.
    ("Asia/Tokyo", datetime(2026, 11, 29, 23, 0, tzinfo=UTC), date(2026, 11, 23)),
    # Santiago moves its clocks on Sunday 6 September 2026: the week before is still seven dates.
    ("America/Santiago", datetime(2026, 9, 7, 11, 0, tzinfo=UTC), date(2026, 8, 31)),
    # Any day of a week gives the week before it.
    ("UTC", datetime(2026, 12, 6, 23, 59, tzinfo=UTC), date(2026, 11, 23)),
])
def test_last_week_is_monday_to_sunday_before_the_week_of_now_in_the_zone(zone, now, monday):
    days = last_week(now, zoneinfo.ZoneInfo(zone))
    assert days == [monday + timedelta(days=n) for n in range(7)]
    assert [day.weekday() for day in days] == list(range(7))
