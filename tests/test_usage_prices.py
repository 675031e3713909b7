"""The price table: shipped prices, the operator's PRICES_FILE over them, a model with no
price (counted, not priced, said once), and a malformed file refused at start-up."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from core.settings import ConfigError
from relay.usage import PRICES_DATE, TokenUsage, UsageDay, UsageRecorder, UsageReport, load_prices, shipped_prices
from tests.support.clock import FakeClock


class _Rows:
    """A UsageLog holding fixed rows (the report's arithmetic only; the stores have their contract tests)."""

    def __init__(self, *rows: UsageDay) -> None:
        self.rows = list(rows)

    async def days(self, first, last, tenant=None):
        return [r for r in self.rows if first <= r.day <= last and tenant in (None, r.tenant)]

    async def add_response(self, tenant, model, usage, now):
        self.rows.append(UsageDay(tenant, now.strftime("%Y-%m-%d"), model, 1, usage.input_tokens))

    async def add_voice_note(self, tenant, model, seconds, now):
        self.rows.append(UsageDay(tenant, now.strftime("%Y-%m-%d"), model, voice_notes=1, voice_seconds=seconds))


def test_the_shipped_prices_have_their_date_and_snapshots_are_priced_as_their_model():
    prices = shipped_prices()
    assert prices.date == PRICES_DATE
    assert prices.of("gpt-4.1-mini-2025-04-14") == prices.of("gpt-4.1-mini") is not None
    assert prices.of("gpt-4.1-mini").cost(1_000_000, 0, 1_000_000, 0) == pytest.approx(0.40 + 1.60)
    assert prices.of("whisper-1").cost(0, 0, 0, 120) == pytest.approx(0.012)


async def test_a_prices_file_replaces_the_shipped_price_of_the_models_it_names(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"date": "2026-12-01", "models": {
        "gpt-4.1-mini": {"input": 1.0, "cached_input": 0.5, "output": 2.0}, "my-model": {"input": 3, "output": 4}}}))
    prices = load_prices(path)
    clock = FakeClock()
    day = f"{clock.now():%Y-%m-%d}"
    rows = _Rows(UsageDay("sol", day, "gpt-4.1-mini", 1, 1_000_000, 500_000, 1_000_000),
                 UsageDay("sol", day, "my-model", 1, 1_000_000, 1_000_000, 0),
                 UsageDay("sol", day, "gpt-4o", 1, 1_000_000, 0, 0))
    report = await UsageReport(rows, prices, clock).all_tenants()
    # 500k at 1.0 + 500k cached at 0.5 + 1M out at 2.0; my-model has no cached rate: input's; gpt-4o as shipped.
    assert report.total.cost == pytest.approx(0.5 + 0.25 + 2.0 + 3.0 + 2.5)
    assert report.prices_date == "2026-12-01"


@pytest.mark.parametrize("content", ["{not json", '{"models": []}', '{"models": {"gpt-4.1": {"input": -1, "output": 1}}}',
                                     '{"models": {"gpt-4.1": {"input": 1}}}', '{"models": {"x": {"imput": 1, "output": 1}}}'])
def test_a_malformed_prices_file_is_a_configuration_error_naming_prices_file(tmp_path, content):
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"^PRICES_FILE: "):
        load_prices(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_prices(tmp_path / "missing.json")


def test_puente_refuses_to_start_with_a_malformed_prices_file_in_one_line(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('{"models": {"gpt-4.1": "cheap"}}')
    env = {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_ADMIN_IDS": "1", "PRICES_FILE": str(path),
           "DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "puente.cli", "run"], env=env, capture_output=True, text=True,
                          timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [(f"puente: configuration error: PRICES_FILE: {path}: the prices of 'gpt-4.1' "
                                         'must be non-negative numbers: "input" and "output" (and "cached_input") '
                                         'per 1M tokens, or "per_minute"')]


async def test_a_model_with_no_price_counts_tokens_says_no_price_and_is_logged_once(caplog):
    clock = FakeClock()
    rows = _Rows()
    recorder = UsageRecorder(rows, shipped_prices(), "whisper-1", clock)
    with caplog.at_level(logging.WARNING, logger="relay.usage"):
        for _ in range(3):
            await recorder.response("sol", "o9-preview", TokenUsage(100, 0, 10))
        await recorder.response("sol", "gpt-4.1", TokenUsage(100, 0, 10))
    assert [r.getMessage() for r in caplog.records] == [
        "model o9-preview has no price: its tokens are counted, its cost is not (see PRICES_FILE)"]
    report = await UsageReport(rows, shipped_prices(), clock).all_tenants()
    assert report.total.unpriced == {"o9-preview"}
    assert report.total.cost == pytest.approx(100 * 2.0 / 1e6)  # gpt-4.1's input only (the fake rows keep input)
