"""A tenant's monthly OpenAI budget, checked at turn start: the operators are warned at
80 % once a month; at 100 % the assistant stops (each customer gets the fallback text once,
the owner and the operators are told once) or answers with the budget's cheaper model.

Spend is controlled through the fake OpenAI's usage: 2M input tokens of gpt-4.1-mini
cost US$ 0.80 per response, so with a US$ 1 budget the second turn starts at 80 % and
the third at 160 %."""

from __future__ import annotations

from datetime import UTC, datetime

from core.events import AlertKind
from tenants.model import DEFAULT_FALLBACK_TEXT
from tests.pipeline.test_hours import OTHER, OTHER_CHAT, move_to
from tests.pipeline.test_owner_commands import customer_says, texts
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, OWNER_CHAT

STOP_NOTICE = ("💸 Se alcanzó el presupuesto de OpenAI de {month} (US$ 1,60 de US$ 1,00). El asistente dejó de "
               "responder hasta fin de mes o hasta que se suba el presupuesto; los clientes reciben el mensaje de "
               "problema técnico.")


async def shop(rig, *budget: str, zone: str | None = None):
    await rig.add_tenant()
    if zone:
        await rig.tenants.set_hours("panaderia", [zone, "lu-do", "00:00-23:59"], "test")
    await rig.tenants.set_budget("panaderia", list(budget), "test")
    rig.openai.usage_tokens = (2_000_000, 0, 0)
    bridge = await rig.connect()
    await rig.settle()
    return bridge


def budget_alerts(rig):
    return [alert.kind for alert in rig.alerts if alert.kind.value.startswith("budget")]


async def test_at_80_percent_the_operators_are_warned_once_and_the_assistant_still_answers(rig):
    bridge = await shop(rig, "2")
    for text in ("uno", "dos"):  # these start at US$ 0 and 0.80
        await customer_says(rig, bridge, CUSTOMER, text)
    assert budget_alerts(rig) == []
    rig.openai.usage_tokens = (100_000, 0, 0)  # US$ 0.04 a response from now on
    await customer_says(rig, bridge, CUSTOMER, "tres")  # starts at US$ 1.60: 80 %
    await customer_says(rig, bridge, CUSTOMER, "cuatro")
    await customer_says(rig, bridge, OTHER, "cinco")
    assert texts(bridge, CUSTOMER_CHAT) == [f"Respuesta a: {t}" for t in ("uno", "dos", "tres", "cuatro")]
    assert texts(bridge, OTHER_CHAT) == ["Respuesta a: cinco"]
    assert texts(bridge, OWNER_CHAT) == []
    [warning] = [a for a in rig.alerts if a.kind.value.startswith("budget")]
    assert (warning.kind, warning.detail["spent"], warning.detail["budget"]) == (AlertKind.BUDGET_WARNING, "1.60", "2.00")


async def test_at_100_percent_the_assistant_stops_and_everyone_is_told_once(rig):
    bridge = await shop(rig, "1")
    await customer_says(rig, bridge, CUSTOMER, "uno")  # 0 -> 0.80
    await customer_says(rig, bridge, CUSTOMER, "dos")  # 80 %: warned, answered -> 1.60
    calls = rig.openai.responses_created
    await customer_says(rig, bridge, CUSTOMER, "tres")
    await customer_says(rig, bridge, CUSTOMER, "cuatro")
    await customer_says(rig, bridge, OTHER, "hola")
    await rig.restart()  # what was told is stored: not told again after a restart
    again = await rig.connect()
    await customer_says(rig, again, OTHER, "¿hay alguien?")
    await customer_says(rig, again, "5491166667777", "hola")
    await rig.idle()

    def seen(chat):
        return texts(bridge, chat) + texts(again, chat)
    assert rig.openai.responses_created == calls  # no OpenAI call after the stop
    assert seen(CUSTOMER_CHAT) == ["Respuesta a: uno", "Respuesta a: dos", DEFAULT_FALLBACK_TEXT]
    assert seen(OTHER_CHAT) == [DEFAULT_FALLBACK_TEXT]
    assert seen("5491166667777@s.whatsapp.net") == [DEFAULT_FALLBACK_TEXT]
    assert seen(OWNER_CHAT) == [STOP_NOTICE.format(month="2026-11")]
    assert budget_alerts(rig) == [AlertKind.BUDGET_WARNING, AlertKind.BUDGET_STOPPED]


async def test_raising_the_budget_resumes_the_assistant(rig):
    bridge = await shop(rig, "1")
    for text in ("uno", "dos", "tres"):
        await customer_says(rig, bridge, CUSTOMER, text)
    assert texts(bridge, CUSTOMER_CHAT)[-1] == DEFAULT_FALLBACK_TEXT
    await rig.tenants.set_budget("panaderia", ["10"], "test")
    await rig.settle()
    await customer_says(rig, bridge, CUSTOMER, "¿ya?")
    assert texts(bridge, CUSTOMER_CHAT)[-1] == "Respuesta a: ¿ya?"


async def test_a_fallback_budget_switches_to_the_cheaper_model_and_says_so(rig):
    bridge = await shop(rig, "1", "fallback", "gpt-4.1-nano")
    for text in ("uno", "dos", "tres", "cuatro"):
        await customer_says(rig, bridge, CUSTOMER, text)
    assert [r.model for r in rig.openai.response_requests] == ["gpt-4.1-mini"] * 2 + ["gpt-4.1-nano"] * 2
    assert texts(bridge, CUSTOMER_CHAT) == [f"Respuesta a: {t}" for t in ("uno", "dos", "tres", "cuatro")]
    assert texts(bridge, OWNER_CHAT) == [(
        "💸 Se alcanzó el presupuesto de OpenAI de 2026-11 (US$ 1,60 de US$ 1,00). Hasta fin de mes el asistente "
        "responde con un modelo más económico (gpt-4.1-nano).")]
    assert budget_alerts(rig) == [AlertKind.BUDGET_WARNING, AlertKind.BUDGET_FALLBACK]
    [fallback] = [a for a in rig.alerts if a.kind == AlertKind.BUDGET_FALLBACK]
    assert fallback.detail["model"] == "gpt-4.1-nano"


async def test_the_tenants_new_month_in_its_time_zone_lifts_the_stop(rig):
    move_to(rig, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    bridge = await shop(rig, "1", zone="America/Santiago")  # UTC-3 in summer
    for text in ("uno", "dos", "tres"):
        await customer_says(rig, bridge, CUSTOMER, text)
    assert texts(bridge, CUSTOMER_CHAT)[-1] == DEFAULT_FALLBACK_TEXT
    move_to(rig, datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # December in UTC, still 30 November in Santiago
    await customer_says(rig, bridge, OTHER, "hola")
    assert texts(bridge, OTHER_CHAT) == [DEFAULT_FALLBACK_TEXT]
    move_to(rig, datetime(2026, 12, 1, 3, 30, tzinfo=UTC))  # 00:30 on 1 December in Santiago
    await customer_says(rig, bridge, CUSTOMER, "¿ya es diciembre?")
    assert texts(bridge, CUSTOMER_CHAT)[-1] == "Respuesta a: ¿ya es diciembre?"
