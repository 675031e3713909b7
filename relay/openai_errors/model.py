"""What the OpenAI error counts must offer (relay/openai_errors/mongo.py and sqlite.py
implement it): one counter per tenant and UTC day (`relay.message_log.day_of`), with a
count per kind of error beside it, kept 30 days by the cleanup."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

# Days of counts the cleanup keeps.
KEEP_DAYS = 30


class OpenAIErrorLog(Protocol):
    """Counts failed OpenAI calls per tenant and day."""

    async def ensure_indexes(self) -> None: ...

    async def record(self, tenant: str, kind: str, now: datetime) -> None:
        """Count one failed call of `tenant` (of this kind) on the UTC day of `now`."""
        ...

    async def count(self, days: list[str], tenant: str | None = None) -> int:
        """Failed calls on these days (`day_of` strings), of one tenant or of all."""
        ...

    async def forget_old(self, now: datetime, days: int = KEEP_DAYS) -> int:
        """Delete the counts of days before `days` days ago; how many tenant-days."""
        ...
