"""What OpenAI charges, to estimate each tenant's cost: the table shipped with Puente and
the operator's override (`PRICES_FILE`).

The shipped prices are OpenAI's published standard-tier prices (openai.com/api/pricing) as
of PRICES_DATE, in USD. They change: operators should check them and put current ones in
a PRICES_FILE, a JSON file such as

    {"date": "2026-12-01",
     "models": {"gpt-4.1-mini": {"input": 0.40, "cached_input": 0.10, "output": 1.60},
                "whisper-1": {"per_minute": 0.006}}}

Token prices are per 1M tokens; `cached_input` (input read from the prompt cache) defaults
to `input`. A model named in the file replaces the shipped entry of that model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import ConfigError

PRICES_DATE = "2025-08-01"
SHIPPED: dict[str, dict[str, float]] = {
    "gpt-4.1": {"input": 2.00, "cached_input": 0.50, "output": 8.00},
    "gpt-4.1-mini": {"input": 0.40, "cached_input": 0.10, "output": 1.60},
    "gpt-4.1-nano": {"input": 0.10, "cached_input": 0.025, "output": 0.40},
    "gpt-4o": {"input": 2.50, "cached_input": 1.25, "output": 10.00},
    "gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.60},
    "gpt-4o-mini-transcribe": {"per_minute": 0.003},
    "gpt-4o-transcribe": {"per_minute": 0.006},
    "whisper-1": {"per_minute": 0.006},
}
_KEYS = {"input", "cached_input", "output", "per_minute"}
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")  # gpt-4.1-mini-2025-04-14 is priced as gpt-4.1-mini


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """One model's prices in USD: per 1M tokens, or per minute of audio."""

    input: float = 0.0
    cached_input: float | None = None
    output: float = 0.0
    per_minute: float = 0.0

    def cost(self, input_tokens: int, cached_tokens: int, output_tokens: int, seconds: float) -> float:
        cached = self.input if self.cached_input is None else self.cached_input
        tokens = (input_tokens - cached_tokens) * self.input + cached_tokens * cached + output_tokens * self.output
        return tokens / 1_000_000 + seconds / 60 * self.per_minute


class Prices:
    """The price of each known model; `of(model)` is None for a model with no price."""

    def __init__(self, table: dict[str, ModelPrice], date: str) -> None:
        self._table = table
        self.date = date

    def of(self, model: str) -> ModelPrice | None:
        return self._table.get(model) or self._table.get(_SNAPSHOT.sub("", model))


def shipped_prices() -> Prices:
    """The prices shipped with Puente."""
    return Prices({name: ModelPrice(**entry) for name, entry in SHIPPED.items()}, PRICES_DATE)


def load_prices(path: Path | None) -> Prices:
    """The shipped prices with `path`'s over them; ConfigError naming PRICES_FILE when it is unreadable."""
    prices = shipped_prices()
    if path is None:
        return prices
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"PRICES_FILE: cannot read {path} ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ConfigError(f"PRICES_FILE: {path} is not valid JSON ({exc})") from None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ConfigError(f'PRICES_FILE: {path} must be an object with "models": {{model: prices}}')
    table = dict(prices._table)
    for name, entry in models.items():
        table[name] = _model_price(path, name, entry)
    return Prices(table, str(data.get("date") or f"{PRICES_DATE}, with {Path(path).name}"))


def _model_price(path: Path, name: str, entry: Any) -> ModelPrice:
    valid = isinstance(entry, dict) and entry and set(entry) <= _KEYS and all(
        isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in entry.values())
    if not valid or ("per_minute" not in entry and not {"input", "output"} <= set(entry)):
        raise ConfigError(f"PRICES_FILE: {path}: the prices of {name!r} must be non-negative numbers: "
                          '"input" and "output" (and "cached_input") per 1M tokens, or "per_minute"')
    return ModelPrice(**{key: float(value) for key, value in entry.items()})
