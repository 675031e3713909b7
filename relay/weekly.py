"""The owner's weekly summary: on Monday at DIGEST_TIME (DEFAULT_TIMEZONE), each tenant
whose `weekly_summary` switch is on gets last week (Monday to Sunday) of its own bot in the
owner's own chat ("Message yourself"): customer messages received and answered, new
customers, handoffs by the owner and by the assistant, and the busiest day.

No costs: the agency bills its client, and spend is the operator's business (/usage). The
figures are the ones the operators' digest reads (`Stats.tenant_days`); as there, the
store counts per UTC day, so each day of the week is the UTC day of that date. The text
goes out as the owner's `estado` answer does: through the pipeline's reply sender, to the
owner's number, under a ref of its own per tenant and week, so a resend is never doubled.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.clock import Clock
from core.daily_job import DailyJob
from core.settings import Settings
from relay.outbox import command_ref
from relay.pipeline import Pipeline
from relay.pipeline.bridge_port import StateSource
from relay.pipeline.owner import owner_jid
from relay.stats import Stats
from tenants.model import Tenant
from tenants.service import TenantService

log = logging.getLogger("relay.weekly")

_WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


@dataclass(frozen=True, slots=True)
class Week:
    """One tenant's week, Monday to Sunday, summed over its days."""

    monday: date
    messages_in: int
    answered: int
    new_customers: int
    handoffs_by_owner: int
    handoffs_by_assistant: int
    busiest: tuple[date, int] | None  # the day with most customer messages (the first of a tie)


def last_week(now: datetime, zone: zoneinfo.ZoneInfo) -> list[date]:
    """The seven dates, Monday to Sunday, of the week before the one `now` falls in (in `zone`)."""
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return [monday + timedelta(days=n) for n in range(7)]


def _day(day: date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} {day:%d/%m}"


def summary_text(week: Week) -> str:
    """The summary as the owner reads it, in Spanish."""
    sunday = week.monday + timedelta(days=6)
    lines = [
        f"📊 Resumen semanal de tu bot, del {_day(week.monday)} al {_day(sunday)}:",
        f"• Mensajes de clientes recibidos: {week.messages_in}",
        f"• Respondidos por el bot: {week.answered}",
        f"• Clientes nuevos: {week.new_customers}",
        (f"• Chats pasados a una persona: {week.handoffs_by_owner + week.handoffs_by_assistant} "
         f"(tú tomaste {week.handoffs_by_owner}, el asistente pasó {week.handoffs_by_assistant})"),
    ]
    if week.busiest is not None:
        day, count = week.busiest
        lines.append(f"• Día con más mensajes: {_day(day)} ({count})")
    else:
        lines.append("• No hubo mensajes de clientes esta semana.")
    return "\n".join(lines)


class WeeklySummary:
    """Sends every opted-in owner last week's summary on Monday at DIGEST_TIME; start/stop."""

    def __init__(self, *, pipeline: Pipeline, stats: Stats, tenants: TenantService, states: StateSource,
                 settings: Settings, clock: Clock) -> None:
        self._sender = pipeline.sender
        self._owner_phone = pipeline.owner.owner_phone
        self._messages = pipeline.messages
        self._stats = stats
        self._tenants = tenants
        self._states = states
        self._zone = zoneinfo.ZoneInfo(settings.default_timezone)
        self.daily = DailyJob(clock, settings.digest_at, settings.default_timezone, self.run,
                              name="weekly-summary")

    async def start(self) -> None:
        await self.daily.start()

    async def stop(self) -> None:
        await self.daily.stop()

    async def run(self, now: datetime) -> None:
        """The daily job: on a Monday (in the time zone), send last week to every opted-in owner."""
        if now.astimezone(self._zone).weekday() != 0:
            return
        tenants = [t for t in await self._tenants.all(enabled_only=True) if t.settings.weekly_summary]
        log.info("weekly summary for %d tenant(s)", len(tenants))
        for tenant in tenants:
            try:
                await self.send(tenant, now)
            except Exception:  # one tenant's trouble (its store rows, its bridge) never stops the others
                log.exception("tenant %s: weekly summary failed", tenant.slug)

    async def send(self, tenant: Tenant, now: datetime) -> bool:
        """Send `tenant`'s owner the week before `now`; False when it could not go out now."""
        state = self._states.get(tenant.slug).state
        if state != "connected":
            log.info("tenant %s: weekly summary skipped, WhatsApp is %s", tenant.slug, state)
            return False
        chat = owner_jid(self._owner_phone(tenant))
        if chat is None:
            log.warning("tenant %s: weekly summary skipped, the owner's number is unknown", tenant.slug)
            return False
        week = await self.week(tenant.slug, last_week(now, self._zone))
        ref = command_ref(tenant.slug, f"weekly-summary:{week.monday.isoformat()}")
        return await self._sender.notice(tenant.slug, chat, summary_text(week), ref=ref)

    async def week(self, slug: str, days: list[date]) -> Week:
        """The tenant's figures over `days` (Monday first): the digest's counts over the
        whole week, and each day's customer messages for the busiest one."""
        keys = [day.isoformat() for day in days]  # as `day_of` writes them
        counts = await self._stats.tenant_days(slug, keys)
        per_day = [(day, await self._messages.count("in", [key], tenant=slug)) for day, key in zip(days, keys)]
        busiest = max(per_day, key=lambda pair: pair[1])  # max keeps the first of a tie
        return Week(
            monday=days[0],
            messages_in=counts.messages_in,
            answered=counts.answered,
            new_customers=counts.new_customers,
            handoffs_by_owner=counts.handoffs_by_owner,
            handoffs_by_assistant=counts.handoffs_by_assistant,
            busiest=busiest if busiest[1] else None,
        )
