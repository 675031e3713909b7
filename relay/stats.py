"""Counts for the admin bot and the landing page: chats, messages, OpenAI errors.

Days are UTC days, as the message log stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from core.clock import Clock
from relay.chats import open_chats
from relay.handoffs import HandoffBy, open_handoffs
from relay.message_log import day_of, open_message_log
from relay.openai_errors import open_openai_errors


@dataclass(frozen=True, slots=True)
class TenantSummary:
    """One tenant at a glance."""

    chats: int
    paused_chats: int
    messages_today: int
    answered_today: int


@dataclass(frozen=True, slots=True)
class Totals:
    """Every tenant together."""

    messages_today: int
    messages_7d: int
    openai_errors_7d: int
    handoffs_by_assistant_today: int = 0
    handoffs_by_owner_today: int = 0
    handoffs_by_assistant_7d: int = 0
    handoffs_by_owner_7d: int = 0


def _last_days(now: datetime, days: int) -> list[str]:
    return [day_of(now - timedelta(days=n)) for n in range(days)]


class Stats:
    """Read-only counts over the pipeline's collections."""

    def __init__(self, db: AsyncDatabase, clock: Clock) -> None:
        self._chats = open_chats(db)
        self._messages = open_message_log(db)
        self._errors = open_openai_errors(db)
        self._handoffs = open_handoffs(db)
        self._clock = clock

    @property
    def repositories(self) -> list:
        """What it reads, for whoever builds it without a pipeline to create the tables."""
        return [self._chats, self._messages, self._errors, self._handoffs]

    async def tenant_summary(self, slug: str) -> TenantSummary:
        today = day_of(self._clock.now())
        return TenantSummary(
            chats=await self._chats.count(slug),
            paused_chats=await self._chats.count(slug, paused=True),
            messages_today=await self._messages.count("in", [today], tenant=slug),
            answered_today=await self._messages.count("answered", [today], tenant=slug),
        )

    async def totals(self) -> Totals:
        now = self._clock.now()
        week = _last_days(now, 7)
        return Totals(
            messages_today=await self._messages.count("in", [day_of(now)]),
            messages_7d=await self._messages.count("in", week),
            openai_errors_7d=await self._errors.count(week),
            handoffs_by_assistant_today=await self._handoffs.count(HandoffBy.ASSISTANT, [day_of(now)]),
            handoffs_by_owner_today=await self._handoffs.count(HandoffBy.OWNER, [day_of(now)]),
            handoffs_by_assistant_7d=await self._handoffs.count(HandoffBy.ASSISTANT, week),
            handoffs_by_owner_7d=await self._handoffs.count(HandoffBy.OWNER, week),
        )
