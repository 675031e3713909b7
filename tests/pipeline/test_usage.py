"""OpenAI usage is counted per tenant and UTC day from each response's `usage` (the SDK's
ResponseUsage, as the fake OpenAI returns it) and each voice note, and priced."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import pytest

from relay.message_log import day_of
from relay.usage import UsageReport, shipped_prices
from tests.support.pipeline import CUSTOMER

VOICE = {"mime": "audio/ogg; codecs=opus", "data_base64": base64.b64encode(b"OggS-fake-voice").decode(),
         "seconds": 30}


async def _two_messages_and_a_voice_note(rig):
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "¿tienen pan integral?")
    await bridge.wait_for_sent(lambda s: len(bridge.sent) >= 1)
    await bridge.send_message(CUSTOMER, None, kind="audio", media=VOICE)
    await bridge.wait_for_sent(lambda s: len(bridge.sent) >= 2)
    await rig.idle()
    return bridge


async def test_each_response_counts_its_tokens_and_each_voice_note_its_seconds(rig):
    await rig.add_tenant()
    rig.openai.usage_tokens = (1000, 400, 200)  # input (400 of them cached), output
    await _two_messages_and_a_voice_note(rig)

    today = day_of(rig.clock.now())
    rows = {row.model: row for row in await rig.pipeline.usage.days(today, today, "panaderia")}
    assert set(rows) == {"gpt-4.1-mini", rig.settings.openai_transcription_model}
    chat = rows["gpt-4.1-mini"]
    assert (chat.responses, chat.input_tokens, chat.cached_tokens, chat.output_tokens) == (2, 2000, 800, 400)
    voice = rows[rig.settings.openai_transcription_model]
    assert (voice.voice_notes, voice.voice_seconds, voice.responses) == (1, 30.0, 0)


async def test_cached_input_is_priced_at_the_cached_rate(rig):
    await rig.add_tenant()
    rig.openai.usage_tokens = (1000, 400, 200)
    await _two_messages_and_a_voice_note(rig)

    report = await UsageReport(rig.pipeline.usage, shipped_prices(), rig.clock).all_tenants()
    [line] = report.lines
    # gpt-4.1-mini: 600 input at $0.40, 400 cached at $0.10, 200 output at $1.60 per 1M, twice;
    # gpt-4o-mini-transcribe: half a minute at $0.003.
    assert line.cost == pytest.approx(2 * (600 * 0.40 + 400 * 0.10 + 200 * 1.60) / 1e6 + 0.5 * 0.003)
    assert (line.label, line.tokens, line.responses, line.voice_notes, line.unpriced) == (
        "panaderia", 2400, 2, 1, set())


async def test_the_fakes_default_usage_is_counted_too(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "x" * 40)
    await bridge.wait_for_sent()
    await rig.idle()
    today = day_of(rig.clock.now())
    [row] = await rig.pipeline.usage.days(today, today)
    assert (row.tenant, row.responses, row.input_tokens) == ("panaderia", 1, 10)
    assert row.output_tokens > 0


async def test_a_deleted_tenants_usage_goes_with_it(rig):
    await rig.add_tenant()
    await rig.add_tenant("luna", key="sk-test-luna-000000000000002")
    rig.openai.usage_tokens = (10, 0, 5)
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "hola")
    await bridge.wait_for_sent()
    await rig.idle()
    today = day_of(rig.clock.now())
    await rig.pipeline.usage.add_voice_note("luna", "whisper-1", 5, rig.clock.now())

    await rig.tenants.delete("panaderia", "test")
    for _ in range(100):
        if not await rig.pipeline.usage.days(today, today, "panaderia"):
            break
        await asyncio.sleep(0.02)
    assert await rig.pipeline.usage.days(today, today, "panaderia") == []
    assert [row.tenant for row in await rig.pipeline.usage.days(today, today)] == ["luna"]


async def test_the_hourly_cleanup_keeps_usage_400_days(rig):
    await rig.add_tenant()
    now = rig.clock.now()
    old, kept = now - timedelta(days=401), now - timedelta(days=399)
    for moment in (old, kept):
        await rig.pipeline.usage.add_voice_note("panaderia", "whisper-1", 1, moment)
    await rig.cleanup.run()
    assert [row.day for row in await rig.pipeline.usage.days("2000-01-01", "2099-12-31")] == [day_of(kept)]
