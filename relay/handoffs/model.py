"""What the handoff counts must offer (relay/handoffs/mongo.py and sqlite.py implement it):
per tenant and UTC day (`relay.message_log.day_of`), how many chats went to a person, by
whom: the assistant (its handoff_to_human tool) or the owner (writing in the chat); and,
in the same day rows, how many new customers wrote (a chat seen for the first time): no
chat keeps when it was created, and the digest needs yesterday's."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Protocol

# Days of counts the cleanup keeps (/stats shows today and the last 7 days).
KEEP_DAYS = 30


class HandoffBy(enum.StrEnum):
    """Who started a handoff."""

    ASSISTANT = "assistant"
    OWNER = "owner"


class HandoffLog(Protocol):
    """Counts handoffs per tenant, day and starter."""

    async def ensure_indexes(self) -> None: ...

    async def record(self, tenant: str, by: HandoffBy, now: datetime) -> None:
        """Count one handoff of `tenant` started by `by` on the UTC day of `now`."""
        ...

    async def count(self, by: HandoffBy, days: list[str], tenant: str | None = None) -> int:
        """Handoffs started by `by` on these days, of one tenant or of all."""
        ...

    async def record_new_customer(self, tenant: str, now: datetime) -> None:
        """Count one new customer (a chat just created) of `tenant` on the UTC day of `now`."""
        ...

    async def new_customers(self, days: list[str], tenant: str | None = None) -> int:
        """New customers on these days, of one tenant or of all."""
        ...

    async def forget_old(self, now: datetime, days: int = KEEP_DAYS) -> int:
        """Delete the counts of days before `days` days ago; how many tenant-days."""
        ...

    async def delete_tenant(self, tenant: str) -> int: ...
