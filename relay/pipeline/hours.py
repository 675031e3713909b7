"""Opening hours in the pipeline (tenants/hours.py decides open or closed).

Outside hours, in `answer` mode the assistant still answers, told for that turn that the
business is closed and when it opens; in `away` mode it is not called, and the customer
gets the tenant's away message once per chat per closed period. The owner's `cerrado` and
`abierto` override the schedule until its next opening or closing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from core.clock import Clock
from relay.chats import ChatRepository
from relay.pipeline.replies import ReplySender
from relay.pipeline.tenant_cache import TenantCache
from tenants.hours import Status, close_now, open_now, status, when
from tenants.model import Tenant
from tenants.service import TenantService

log = logging.getLogger("relay.pipeline.hours")

UNKNOWN_OPENING = "pronto"  # {next_open} when no opening is in sight (closed by the owner, no schedule)


def tenant_status(tenant: Tenant, now: datetime) -> Status:
    """Open or closed now, by the owner's override and the schedule."""
    return status(tenant.hours, tenant.hours_override, now)


def away_mode(tenant: Tenant) -> bool:
    """Outside hours the assistant is not called (without a schedule: `answer`)."""
    return tenant.hours is not None and tenant.hours.mode == "away"


def _zone(tenant: Tenant) -> str:
    return tenant.hours.timezone if tenant.hours else "UTC"


def next_open_text(tenant: Tenant, state: Status, now: datetime) -> str:
    """`el lunes a las 09:00`, or `pronto` when no opening is known."""
    return when(state.until, now, _zone(tenant)) if state.until else UNKNOWN_OPENING


def turn_instructions(tenant: Tenant, now: datetime) -> str:
    """The tenant's instructions, with a note for this turn when the business is closed."""
    state = tenant_status(tenant, now)
    if state.open:
        return tenant.instructions
    if state.until:
        opens = f"Abre {next_open_text(tenant, state, now)} (hora de {_zone(tenant)})."
        person = f"una persona del equipo le responderá cuando abra, {next_open_text(tenant, state, now)}"
    else:
        opens, person = "No hay hora de apertura definida.", "una persona del equipo le responderá apenas abra"
    schedule = f" Horario: {tenant.hours.describe()}." if tenant.hours else ""
    return (f"{tenant.instructions}\n\n[Horario de atención] En este momento el negocio está cerrado. {opens}"
            f"{schedule} Si el cliente necesita a una persona, dile que {person}.")


class AwayDesk:
    """Outside hours in `away` mode: the away message once per chat per closed period."""

    def __init__(self, chats: ChatRepository, sender: ReplySender, clock: Clock) -> None:
        self._chats = chats
        self._sender = sender
        self._clock = clock

    async def holds(self, tenant: Tenant, chat_id: str) -> bool:
        """True if the assistant must not answer now (closed, `away` mode); the customer is
        sent the away message if this chat has not had it since this closed period began."""
        now = self._clock.now()
        state = tenant_status(tenant, now)
        if state.open or not away_mode(tenant):
            return False
        if await self._chats.claim_since(tenant.slug, chat_id, "away_at", state.since or now, now):
            text = tenant.settings.away_message.replace("{next_open}", next_open_text(tenant, state, now))
            self._sender.notice_soon(tenant.slug, chat_id, text)
        return True


async def owner_open_or_close(tenants: TenantService, cache: TenantCache, tenant: Tenant, close: bool,
                              now: datetime) -> str:
    """The owner's `cerrado` / `abierto`, stored (it survives restarts); the confirmation."""
    fresh = await cache.get(tenant.slug) or tenant
    override = close_now(fresh.hours, now) if close else open_now(fresh.hours, now)
    updated = await tenants.set_hours_override(tenant.slug, override)
    if updated is not None:
        cache.put(updated)
    zone = _zone(fresh)
    if close:
        if override.until is None:
            line = "🌙 Cerrado desde ahora, hasta que escribas «abierto»."
        else:
            line = f"🌙 Cerrado desde ahora hasta {when(override.until, now, zone)}, cuando abre según tu horario."
        aside = ("Los clientes reciben tu mensaje de ausencia." if away_mode(fresh)
                 else "El asistente sigue respondiendo y avisa que están cerrados.")
        return f"{line} {aside} Escribe «abierto» para abrir antes."
    if override is None:
        return "☀️ Abierto: el bot responde como siempre."
    return f"☀️ Abierto desde ahora hasta {when(override.until, now, zone)}, cuando cierra según tu horario."


def status_line(tenant: Tenant, now: datetime) -> str | None:
    """The hours line of `estado`; None without a schedule or an override."""
    if tenant.hours is None and tenant.hours_override is None:
        return None
    state = tenant_status(tenant, now)
    who = " (lo decidiste tú)" if state.manual else ""
    if state.open:
        until = f", cierra {when(state.until, now, _zone(tenant))}" if state.until else ""
        line = f"☀️ Abierto{who}{until}."
    else:
        opens = f", abre {when(state.until, now, _zone(tenant))}" if state.until else ", hasta que escribas «abierto»"
        line = f"🌙 Cerrado{who}{opens}."
    if tenant.hours is not None:
        line += f" Horario: {tenant.hours.describe()} ({tenant.hours.timezone})."
    return line
