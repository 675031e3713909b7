"""/budget: a tenant's monthly OpenAI budget set, shown with the month's spend, removed;
bad input refused in one line; the card and /stats show the spend against it.

The clock is Wednesday 2 December 2026, 12:00 UTC; usage is written straight to the store
(tests/pipeline/test_budget.py proves the relay acts on the budget)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relay.usage import TokenUsage
from tests.support.bot import BotRig
from tests.support.clock import FakeClock

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


@pytest.fixture
async def rig(store, tmp_path):
    rig = BotRig(store, tmp_path / "data", clock=FakeClock(NOW))
    await rig.start()
    await rig.add_tenant("sol")
    # US$ 4.00 this month, US$ 1.00 in November (not counted)
    await rig.usage.add_response("sol", "gpt-4.1-mini", TokenUsage(10_000_000, 0, 0), NOW)
    await rig.usage.add_response("sol", "gpt-4.1-mini", TokenUsage(2_500_000, 0, 0), datetime(2026, 11, 30, tzinfo=UTC))
    yield rig
    await rig.stop()


async def test_budget_set_show_and_off(rig):
    assert (await rig.say("/budget sol")).body == (
        "💸 Tienda Sol no tiene presupuesto mensual. Ejemplo: <code>/budget sol 20</code>\n"
        "Gasto de 2026-12: US$ 4,00")
    assert (await rig.say("/budget sol 10")).body == (
        "💸 Presupuesto mensual de Tienda Sol guardado: US$ 10,00\n"
        "Al llegar: el asistente deja de responder hasta fin de mes (stop).\n"
        "Gasto de 2026-12: US$ 4,00 de US$ 10,00 (40 %)")
    assert (await rig.say("/budget sol 3,5 fallback gpt-4.1-nano", lang="en")).body == (
        "💸 Tienda Sol's monthly budget saved: US$ 3.50\n"
        "When reached: the assistant answers with gpt-4.1-nano until the month ends (fallback).\n"
        "Spend in 2026-12: US$ 4.00 of US$ 3.50 (114 %)\n"
        "Reached: it answers with the cheaper model.")
    assert (await rig.say("/budget sol")).body.startswith("💸 Presupuesto mensual de Tienda Sol: US$ 3,50\n")
    assert (await rig.say("/budget sol off")).body == (
        "💸 Presupuesto mensual de Tienda Sol quitado.\nGasto de 2026-12: US$ 4,00")
    assert (await rig.tenants.get("sol")).budget is None


async def test_bad_budget_input_gets_one_line_and_changes_nothing(rig):
    await rig.say("/budget sol 10")
    refusals = {
        "/budget sol diez": "❌ El presupuesto es un número positivo de USD; no cambié nada. "
                            "Ejemplo: <code>/budget sol 20</code>",
        "/budget sol -5": "❌ El presupuesto es un número positivo de USD; no cambié nada. "
                          "Ejemplo: <code>/budget sol 20</code>",
        "/budget sol 5 pausa": "❌ Al llegar al presupuesto: stop o fallback &lt;modelo&gt;; no cambié nada. "
                               "Ejemplo: <code>/budget sol 20 fallback gpt-4.1-nano</code>",
        "/budget sol 5 fallback": "❌ fallback necesita un modelo, como gpt-4.1-nano; no cambié nada. "
                                  "Ejemplo: <code>/budget sol 20 fallback gpt-4.1-nano</code>",
    }
    for command, answer in refusals.items():
        assert (await rig.say(command)).body == answer
    assert (await rig.say("/budget nadie 5")).body.startswith("No hay un cliente «nadie». Mira /tenants.")
    budget = (await rig.tenants.get("sol")).budget
    assert (budget.usd, budget.action) == (10.0, "stop")


async def test_the_card_and_stats_show_the_months_spend_against_the_budget(rig):
    await rig.say("/budget sol 5")
    card = await rig.say("/tenant sol")
    assert card.body.endswith("\nGasto de 2026-12: US$ 4,00 de US$ 5,00 (80 %)")
    stats = await rig.say("/stats")
    assert stats.body.endswith("\n\n💸 Presupuestos del mes:\n<code>sol</code> · Gasto de 2026-12: US$ 4,00 de US$ 5,00 (80 %)")
