"""/usage: OpenAI tokens and estimated cost per tenant this UTC month, one tenant by day with
last month's total, and one tenant's month as a CSV document.

The clock is Wednesday 2 December 2026, 12:00 UTC. Usage is written straight to the store
here; tests/pipeline/test_usage.py proves the pipeline records it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from relay.usage import PRICES_DATE, TokenUsage
from tests.support.bot import ADMIN, BotRig
from tests.support.clock import FakeClock

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
FOOTER = f"Costo estimado en USD con precios del {PRICES_DATE}; revísalos en openai.com/api/pricing."


@pytest.fixture
async def rig(store, tmp_path):
    rig = BotRig(store, tmp_path / "data", clock=FakeClock(NOW))
    await rig.start()
    yield rig
    await rig.stop()


async def _usage(rig):
    """sol: $2.00 on 1 December, 30 s of voice on the 2nd and $1.00 in November; luna: $0.041 today."""
    await rig.add_tenant("sol")
    await rig.add_tenant("luna", name="Luna")
    add = rig.usage.add_response
    await add("sol", "gpt-4.1-mini", TokenUsage(1_000_000, 0, 1_000_000), datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    await rig.usage.add_voice_note("sol", "gpt-4o-mini-transcribe", 30, NOW)
    await add("sol", "gpt-4.1-mini", TokenUsage(500_000, 0, 500_000), datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    await add("luna", "gpt-4.1-mini", TokenUsage(100_000, 50_000, 10_000), NOW)


async def test_usage_shows_every_tenants_tokens_and_cost_this_month_and_the_total(rig):
    await _usage(rig)
    answer = await rig.say("/usage")
    assert answer.body == (
        "💵 <b>Consumo de OpenAI, 2026-12</b> (mes UTC)\n"
        "<code>luna</code>: 110.000 tokens · US$ 0,0410\n"
        "<code>sol</code>: 2.000.000 tokens · US$ 2,00 · 1 audio(s), 0,5 min\n"
        "<b>Total</b>: 2.110.000 tokens · US$ 2,04 · 1 audio(s), 0,5 min\n\n" + FOOTER)


async def test_usage_of_a_tenant_shows_its_days_and_last_months_total_in_english(rig):
    await _usage(rig)
    answer = await rig.say("/usage sol", lang="en")
    assert answer.body == (
        "💵 <b>sol</b>: OpenAI usage, 2026-12 (UTC month)\n"
        "2026-12-01: 2,000,000 tokens · US$ 2.00\n"
        "2026-12-02: 0 tokens · US$ 0.0015 · 1 voice note(s), 0.5 min\n"
        "<b>Total</b>: 2,000,000 tokens · US$ 2.00 · 1 voice note(s), 0.5 min\n"
        "Last month (2026-11): 1,000,000 tokens · US$ 1.00\n\n"
        f"Estimated cost in USD at prices of {PRICES_DATE}; check them at openai.com/api/pricing.")


async def test_a_new_month_starts_from_zero_and_the_old_one_becomes_last_month(rig):
    await _usage(rig)
    rig.clock.advance(days=30)  # 1 January 2027
    answer = await rig.say("/usage sol")
    assert answer.body == (
        "💵 <b>sol</b>: consumo de OpenAI, 2027-01 (mes UTC)\n"
        "Sin consumo este mes.\n"
        "<b>Total</b>: 0 tokens · US$ 0,00\n"
        "Mes anterior (2026-12): 2.000.000 tokens · US$ 2,00 · 1 audio(s), 0,5 min\n\n" + FOOTER)
    assert (await rig.say("/usage")).body.splitlines()[1:3] == ["Sin consumo este mes.", "<b>Total</b>: 0 tokens · US$ 0,00"]


async def test_a_model_with_no_price_counts_its_tokens_and_says_so(rig):
    await rig.add_tenant("sol")
    await rig.usage.add_response("sol", "o9-preview", TokenUsage(1000, 0, 500), NOW)
    answer = await rig.say("/usage")
    assert answer.body.splitlines()[1:] == [
        "<code>sol</code>: 1.500 tokens · US$ 0,00 + sin precio",
        "<b>Total</b>: 1.500 tokens · US$ 0,00 + sin precio", "",
        "⚠️ Sin precio (sus tokens se cuentan, su costo no): o9-preview. Agrégalos en PRICES_FILE.", FOOTER]


async def test_usage_csv_sends_the_tenants_month_as_a_document(rig):
    await _usage(rig)
    answer = await rig.say("/usage sol csv")
    assert (answer.kind, answer.document_filename, answer.caption) == (
        "document", "usage-sol-2026-12.csv", "Consumo de <code>sol</code>, 2026-12 (mes UTC).")
    assert answer.document.decode() == (
        "day,model,responses,input_tokens,cached_input_tokens,output_tokens,voice_notes,voice_seconds,cost_usd\n"
        "2026-12-01,gpt-4.1-mini,1,1000000,0,1000000,0,0,2.000000\n"
        "2026-12-02,gpt-4o-mini-transcribe,0,0,0,0,1,30,0.001500\n")


async def test_a_wrong_slug_or_form_gets_the_usual_answer(rig):
    await rig.add_tenant("sol")
    assert (await rig.say("/usage nadie")).body == (
        "No hay un cliente «nadie». Mira /tenants.\n"
        "Forma correcta: <code>/usage  or  /usage &lt;slug&gt;  or  /usage &lt;slug&gt; csv</code>")
    assert (await rig.say("/usage sol pdf")).body == (
        "Forma correcta: <code>/usage  or  /usage &lt;slug&gt;  or  /usage &lt;slug&gt; csv</code>")


async def test_usage_of_a_tenant_also_sends_a_chart_with_its_budget(rig):
    await _usage(rig)
    await rig.say("/budget sol 5")
    text = await rig.say("/usage sol")
    assert text.body.startswith("💵 <b>sol</b>: consumo de OpenAI, 2026-12 (mes UTC)\n")
    chart = await rig.wait_for(lambda m: m.kind == "photo")
    assert chart.message_id == text.message_id + 1  # the text first, then the chart
    assert chart.caption == "📈 <code>sol</code>: mensajes y gasto por día, 2026-12 (mes UTC)."
    assert chart.photo.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.photo) > 10_000
    assert chart.photo_filename == "usage-sol-2026-12.png"


async def test_without_matplotlib_usage_sends_the_text_and_no_chart(rig, monkeypatch):
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)  # `import` raises ImportError, as when not installed
    await _usage(rig)
    text = await rig.say("/usage sol", lang="en")
    assert text.body.startswith("💵 <b>sol</b>: OpenAI usage, 2026-12 (UTC month)\n2026-12-01: 2,000,000 tokens")
    assert (await rig.say("/help")).kind == "text"  # /usage sol answered completely before /help
    assert [m.kind for m in rig.telegram.messages_in(ADMIN)] == ["text", "text"]
    assert not rig.telegram.calls("sendPhoto")
