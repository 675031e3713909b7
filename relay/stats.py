"""Counts for the admin bot and the landing page: chats, messages, OpenAI errors.

Days are UTC days, as the message log stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from core.clock import Clock
from relay.chats import PauseKind, open_chats
from relay.handoffs import HandoffBy, open_handoffs
from relay.message_log import day_of, open_message_log
from relay.openai_errors import open_openai_errors

OPEN_HANDOFFS_LIMIT = 10_000  # paused chats read to count open handoffs


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


@dataclass(frozen=True, slots=True)
class TenantDays:
    """One tenant over some days (yesterday for the digest, a week for the owner's summary),
    and its handoffs still open now."""

    messages_in: int
    answered: int
    new_customers: int
    handoffs_by_owner: int
    handoffs_by_assistant: int
    openai_errors: int
    open_handoffs: int  # chats in a handoff pause now


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

    async def tenant_days(self, slug: str, days: list[str]) -> TenantDays:
        """What happened in one tenant's chats on these UTC days (`day_of` strings)."""
        return TenantDays(
            messages_in=await self._messages.count("in", days, tenant=slug),
            answered=await self._messages.count("answered", days, tenant=slug),
            new_customers=await self._handoffs.new_customers(days, tenant=slug),
            handoffs_by_owner=await self._handoffs.count(HandoffBy.OWNER, days, tenant=slug),
            handoffs_by_assistant=await self._handoffs.count(HandoffBy.ASSISTANT, days, tenant=slug),
            openai_errors=await self._errors.count(days, tenant=slug),
            open_handoffs=sum(chat.pause_kind is PauseKind.HANDOFF
                              for chat in await self._chats.paused(slug, limit=OPEN_HANDOFFS_LIMIT)),
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
