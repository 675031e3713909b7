"""What the pipeline calls after each OpenAI call to count its usage."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.clock import Clock
from relay.usage.model import TokenUsage, UsageLog
from relay.usage.prices import Prices

log = logging.getLogger("relay.usage")


class UsageRecorder:
    """Counts responses and voice notes; a store failure costs a count, never the turn."""

    def __init__(self, usage: UsageLog, prices: Prices, transcription_model: str, clock: Clock,
                 on_cost: Callable[[str, float], None] | None = None) -> None:
        self._usage = usage
        self._on_cost = on_cost  # told each counted cost (the budget's month-to-date spend)
        self._prices = prices
        self._transcription_model = transcription_model
        self._clock = clock
        self._unpriced: set[str] = set()

    async def response(self, tenant: str, model: str, usage: TokenUsage | None) -> None:
        """Count one response of `model` with its tokens (none when OpenAI sent no usage)."""
        self._check_price(model)
        usage = usage or TokenUsage()
        await self._quietly(tenant, self._usage.add_response(tenant, model, usage, self._clock.now()))
        self._cost(tenant, model, usage.input_tokens, usage.cached_tokens, usage.output_tokens, 0.0)

    async def voice_note(self, tenant: str, seconds: float | None) -> None:
        """Count one voice note transcribed (its length from the bridge, when it said)."""
        self._check_price(self._transcription_model)
        seconds = max(0.0, seconds or 0.0)
        await self._quietly(tenant, self._usage.add_voice_note(
            tenant, self._transcription_model, seconds, self._clock.now()))
        self._cost(tenant, self._transcription_model, 0, 0, 0, seconds)

    def _cost(self, tenant: str, model: str, input_tokens: int, cached: int, output: int, seconds: float) -> None:
        price = self._prices.of(model)
        if self._on_cost and price is not None:
            self._on_cost(tenant, price.cost(input_tokens, cached, output, seconds))

    def _check_price(self, model: str) -> None:
        if model not in self._unpriced and self._prices.of(model) is None:
            self._unpriced.add(model)  # once per model and run: /usage says it too
            log.warning("model %s has no price: its tokens are counted, its cost is not (see PRICES_FILE)", model)

    @staticmethod
    async def _quietly(tenant: str, write) -> None:
        try:
            await write
        except Exception as exc:
            log.warning("tenant %s: usage not counted (%s)", tenant, type(exc).__name__)
