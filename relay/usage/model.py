"""What the usage counts must offer (relay/usage/mongo.py and sqlite.py implement it): per
tenant, UTC day (`relay.message_log.day_of`) and model, the responses and their tokens, and
the voice notes transcribed with their seconds; kept 400 days by the cleanup."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

# Days of counts the cleanup keeps: a full year and last month's, like the stats.
KEEP_DAYS = 400


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """The tokens of one response, from its `usage` (OpenAPI ResponseUsage: input_tokens,
    input_tokens_details.cached_tokens, output_tokens)."""

    input_tokens: int = 0
    cached_tokens: int = 0  # part of input_tokens, read from OpenAI's prompt cache
    output_tokens: int = 0

    @classmethod
    def of(cls, usage: Any) -> TokenUsage | None:
        """The counts of a response's `usage` (its JSON); None when the response carried none."""
        if not isinstance(usage, dict):
            return None
        details = usage.get("input_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, dict) else 0
        return cls(_count(usage.get("input_tokens")), _count(cached), _count(usage.get("output_tokens")))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


@dataclass(frozen=True, slots=True)
class UsageDay:
    """One tenant's use of one model on one UTC day (or a sum of such rows)."""

    tenant: str
    day: str
    model: str
    responses: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    voice_notes: int = 0
    voice_seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


# The counters of a UsageDay, in the order both back-ends store them.
COUNTERS = tuple(f.name for f in fields(UsageDay) if f.name not in ("tenant", "day", "model"))


class UsageLog(Protocol):
    """Counts OpenAI usage per tenant, day and model."""

    async def ensure_indexes(self) -> None: ...

    async def add_response(self, tenant: str, model: str, usage: TokenUsage, now: datetime) -> None:
        """Count one response of `model` for `tenant`, with its tokens, on the UTC day of `now`."""
        ...

    async def add_voice_note(self, tenant: str, model: str, seconds: float, now: datetime) -> None:
        """Count one voice note transcribed by `model` (`seconds` long, 0 if unknown)."""
        ...

    async def days(self, first: str, last: str, tenant: str | None = None) -> list[UsageDay]:
        """The rows of days `first` to `last` (inclusive), of one tenant or of all, by tenant, day, model."""
        ...

    async def forget_old(self, now: datetime, days: int = KEEP_DAYS) -> int:
        """Delete the rows of days before `days` days ago; how many."""
        ...

    async def delete_tenant(self, tenant: str) -> int: ...
