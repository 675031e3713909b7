"""The tenant's monthly OpenAI budget, checked at the start of each turn.

Month-to-date spend is kept in memory per tenant: read from the usage counts once per
tenant and month (and after a restart), then raised by each cost the UsageRecorder counts,
so a message costs no store scan. At 80 % the operators are warned once a month; at 100 %
the assistant stops (each chat gets the tenant's fallback text once per stop, the
`fallback_at` claim since the stop began) or answers with the budget's cheaper model, and
the owner and the operators are told once. What was told is stored on the tenant
(`budget_notices`), so a restart does not tell it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from core.clock import Clock
from core.events import Alert, AlertKind
from relay.chats import ChatRepository
from relay.pipeline.owner import owner_jid
from relay.pipeline.replies import ReplySender
from relay.pipeline.tenant_cache import TenantCache
from tenants.budget import WARN_SHARE, BudgetMonth, BudgetNotices, budget_month, tenant_zone
from tenants.model import Tenant
from tenants.service import TenantService

log = logging.getLogger("relay.pipeline.budget")

CostBetween = Callable[[str, str, str], Awaitable[float]]  # slug, first UTC day, last UTC day -> USD


def usd(amount: float) -> str:
    """`US$ 10,00`, as the owner reads it."""
    return "US$ " + f"{amount:,.2f}".translate(str.maketrans(",.", ".,"))


def owner_notice(tenant: Tenant, spent: float, month: str) -> str:
    """What the owner reads in their own chat when the month's budget is reached."""
    budget = tenant.budget
    line = f"💸 Se alcanzó el presupuesto de OpenAI de {month} ({usd(spent)} de {usd(budget.usd)})."
    if budget.action == "fallback":
        return f"{line} Hasta fin de mes el asistente responde con un modelo más económico ({budget.fallback_model})."
    return (f"{line} El asistente dejó de responder hasta fin de mes o hasta que se suba el presupuesto; "
            "los clientes reciben el mensaje de problema técnico.")


class BudgetDesk:
    """Decides at turn start whether the budget lets the assistant answer, and with which model."""

    def __init__(
        self, *, tenants: TenantService, cache: TenantCache, chats: ChatRepository, sender: ReplySender,
        cost_between: CostBetween, owner_phone: Callable[[Tenant], str | None], alert: Callable[[Alert], None],
        clock: Clock, default_zone: str,
    ) -> None:
        self._tenants = tenants
        self._cache = cache
        self._chats = chats
        self._sender = sender
        self._cost_between = cost_between
        self._owner_phone = owner_phone
        self._alert = alert
        self._clock = clock
        self._default_zone = default_zone
        self._spent: dict[str, tuple[str, float]] = {}  # slug -> (its month, spend so far)
        self._locks: dict[str, asyncio.Lock] = {}

    def add(self, slug: str, cost: float) -> None:
        """A cost just counted (UsageRecorder's on_cost); a month not read yet is read at its first turn."""
        if slug in self._spent:
            month, spent = self._spent[slug]
            self._spent[slug] = (month, spent + cost)

    async def spent(self, tenant: Tenant) -> tuple[BudgetMonth, float]:
        """The tenant's month now and its spend so far."""
        month = budget_month(tenant_zone(tenant.hours.timezone if tenant.hours else None, self._default_zone),
                             self._clock.now())
        cached = self._spent.get(tenant.slug)
        if cached is None or cached[0] != month.month:
            self._spent[tenant.slug] = (month.month, 0.0)  # costs counted while reading are added to it
            read = await self._cost_between(tenant.slug, month.first_day, month.last_day)
            self._spent[tenant.slug] = (month.month, self._spent[tenant.slug][1] + read)
        return month, self._spent[tenant.slug][1]

    async def admit(self, tenant: Tenant, chat_id: str) -> Tenant | None:
        """The tenant to answer this turn with (its model swapped past a `fallback` budget),
        or None when the budget stops the assistant (the customer told once per stop)."""
        if tenant.budget is None:
            return tenant
        month, spent = await self.spent(tenant)
        if spent < tenant.budget.usd * WARN_SHARE:
            return tenant
        async with self._locks.setdefault(tenant.slug, asyncio.Lock()):
            tenant = await self._cache.get(tenant.slug) or tenant  # notices stored by a concurrent turn
            if tenant.budget is None:
                return tenant
            notices = await self._notify(tenant, month.month, spent)
        if notices.reached_at is None:
            return tenant
        if tenant.budget.action == "fallback":
            return tenant.with_changes(model=tenant.budget.fallback_model)
        if await self._chats.claim_since(tenant.slug, chat_id, "fallback_at", notices.reached_at, self._clock.now()):
            self._sender.notice_soon(tenant.slug, chat_id, tenant.settings.fallback_text)
        return None

    async def _notify(self, tenant: Tenant, month: str, spent: float) -> BudgetNotices:
        """Tell what this month has not been told yet; the notices as stored."""
        budget = tenant.budget
        before = tenant.budget_notices if tenant.budget_notices and tenant.budget_notices.month == month else None
        notices = before or BudgetNotices(month)
        detail = {"spent": f"{spent:.2f}", "budget": f"{budget.usd:.2f}", "month": month}
        if spent >= budget.usd and notices.reached_at is None:
            notices = replace(notices, warned=True, reached_at=self._clock.now())
            stopped = budget.action == "stop"
            log.warning("tenant %s: monthly budget reached (%.2f of %.2f USD); %s", tenant.slug, spent, budget.usd,
                        "the assistant stops" if stopped else f"answering with {budget.fallback_model}")
            kind = AlertKind.BUDGET_STOPPED if stopped else AlertKind.BUDGET_FALLBACK
            self._alert(Alert(tenant.slug, kind, {**detail, "model": budget.fallback_model or ""}))
            self._tell_owner(tenant, spent, month)
        elif not notices.warned:
            notices = replace(notices, warned=True)
            self._alert(Alert(tenant.slug, AlertKind.BUDGET_WARNING, detail))
        if notices != before:
            updated = await self._tenants.set_budget_notices(tenant.slug, notices)
            if updated is not None:
                self._cache.put(updated)
        return notices

    def _tell_owner(self, tenant: Tenant, spent: float, month: str) -> None:
        owner = owner_jid(self._owner_phone(tenant))
        if owner is None:
            log.warning("tenant %s: the owner's number is unknown; budget notice not sent", tenant.slug)
            return
        self._sender.notice_soon(tenant.slug, owner, owner_notice(tenant, spent, month))
