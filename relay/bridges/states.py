"""Every tenant's WhatsApp state: current in memory, the durable part on the tenant.

The current state is what the admin bot and the landing page show; a tenant whose
bridge is not running shows `stopped`. The durable part (state, phone, name, reason) is
saved on the tenant when it changes, and alerts compare with it, so a relay restart
with a bridge that was already connected tells the operators nothing new.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import Callable

from core.bus import EventBus
from core.clock import Clock, utc
from core.events import Alert, AlertKind, TenantCreated, TenantDeleted, WhatsAppState, WhatsAppStateChanged
from core.metrics import Metrics
from relay.protocol import PairingCode, Qr, Status
from tenants.service import TenantService

log = logging.getLogger("relay.bridge.states")

STATE_NAMES = ("starting", "waiting_qr", "pairing", "connected", "reconnecting", "logged_out", "banned", "stopped")
# Passing states are shown but not saved: a restart (starting), a network blip
# (reconnecting) or our own shutdown (stopped without a reason) changes nothing lasting.
_PASSING = {"starting", "reconnecting"}
_QUIET_STOP_REASONS = {None, "", "shutdown"}
# A pairing code means nothing any more once the link settled one way or the other.
_ENDS_PAIRING = {"connected", "logged_out", "banned", "stopped"}

Durable = tuple[str, str | None, str | None, str | None]


class WhatsAppStates:
    """Current WhatsApp state per tenant; publishes WhatsAppStateChanged and Alerts."""

    def __init__(self, tenants: TenantService, bus: EventBus, clock: Clock, metrics: Metrics | None = None) -> None:
        self._tenants = tenants
        self._bus = bus
        self._clock = clock
        self._metrics = metrics
        self._current: dict[str, WhatsAppState] = {}
        self._saved: dict[str, Durable] = {}
        self._changed = asyncio.Event()

    async def start(self) -> None:
        """Load what each tenant had saved; every bridge shows `stopped` until it reports."""
        for tenant in await self._tenants.all():
            saved = tenant.whatsapp
            self._saved[tenant.slug] = _durable(saved)
            self._current[tenant.slug] = WhatsAppState(
                state="stopped", phone=saved.phone, name=saved.name, updated_at=saved.updated_at
            )
        self._bus.subscribe("whatsapp-states", self._on_tenant_event, TenantCreated, TenantDeleted)
        self._count()

    async def stop(self) -> None:
        return None

    def get(self, slug: str) -> WhatsAppState:
        """The tenant's current state (`stopped` for one never seen)."""
        return self._current.get(slug) or WhatsAppState()

    # --- what the bridge reports -------------------------------------------------

    async def on_status(self, slug: str, status: Status) -> None:
        """A `status` frame: new state; saved and alerted when its durable part changed."""
        current = self.get(slug)
        new = dataclasses.replace(
            current,
            state=status.state,
            phone=status.phone or current.phone,
            name=status.name or current.name,
            reason=status.reason,
            until=utc(status.until) if status.until else None,
            qr=current.qr if status.state == "waiting_qr" else None,
            qr_expires_at=current.qr_expires_at if status.state == "waiting_qr" else None,
            pairing_code=None if status.state in _ENDS_PAIRING else current.pairing_code,
            pairing_code_expires_at=None if status.state in _ENDS_PAIRING else current.pairing_code_expires_at,
            updated_at=self._clock.now(),
        )
        self._set(slug, new)
        if _is_durable(new):
            await self._save_if_changed(slug, new)

    async def on_qr(self, slug: str, qr: Qr) -> None:
        """A new QR to show (kept in memory only: it lives 20 seconds)."""
        current = self.get(slug)
        self._set(slug, dataclasses.replace(
            current, qr=qr.qr, qr_expires_at=utc(qr.expires_at), pairing_code=None, pairing_code_expires_at=None,
            updated_at=self._clock.now(),
        ))

    async def on_pairing_code(self, slug: str, code: PairingCode) -> None:
        """A pairing code to show to the user, and until when it can be typed (memory only)."""
        current = self.get(slug)
        self._set(slug, dataclasses.replace(
            current, pairing_code=code.code, pairing_code_expires_at=utc(code.expires_at) if code.expires_at else None,
            qr=None, qr_expires_at=None, updated_at=self._clock.now(),
        ))

    async def mark_stopped(self, slug: str) -> None:
        """The tenant's bridge process is not running; shown as `stopped`, not saved."""
        current = self.get(slug)
        if current.state == "stopped" and current.qr is None and current.pairing_code is None:
            return
        self._set(slug, dataclasses.replace(
            current, state="stopped", reason=current.reason if current.state == "stopped" else None,
            qr=None, qr_expires_at=None, pairing_code=None, pairing_code_expires_at=None, updated_at=self._clock.now(),
        ))

    def clear_pairing_code(self, slug: str) -> None:
        """Forget a shown pairing code before asking for a new one."""
        current = self.get(slug)
        if current.pairing_code is not None:
            self._current[slug] = dataclasses.replace(current, pairing_code=None, pairing_code_expires_at=None)

    async def wait_for(
        self, slug: str, predicate: Callable[[WhatsAppState], object], timeout: float
    ) -> WhatsAppState:
        """Wait until the tenant's state satisfies `predicate`; TimeoutError after `timeout` s."""
        async with asyncio.timeout(timeout):
            while True:
                state = self.get(slug)
                if predicate(state):
                    return state
                await self._changed.wait()

    # --- internals ---------------------------------------------------------------

    def _set(self, slug: str, new: WhatsAppState) -> None:
        previous = self.get(slug)
        self._current[slug] = new
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        self._count()
        self._bus.publish(WhatsAppStateChanged(slug, new, previous))

    async def _save_if_changed(self, slug: str, new: WhatsAppState) -> None:
        saved = self._saved.get(slug, _durable(WhatsAppState()))
        if _durable(new) == saved:
            return
        self._saved[slug] = _durable(new)
        alert = _alert_for(slug, new, saved)
        if alert is not None:
            self._bus.publish(alert)
        try:
            await self._tenants.save_whatsapp(slug, new)
        except Exception:
            log.exception("tenant %s: saving the WhatsApp state %s failed", slug, new.state)

    async def _on_tenant_event(self, event: TenantCreated | TenantDeleted) -> None:
        if isinstance(event, TenantCreated):
            self._current.setdefault(event.tenant, WhatsAppState())
        else:
            self._current.pop(event.tenant, None)
            self._saved.pop(event.tenant, None)
        self._count()

    def _count(self) -> None:
        if self._metrics is None:
            return
        counts = Counter(state.state for state in self._current.values())
        for name in STATE_NAMES:
            self._metrics.bridges.labels(name).set(counts.get(name, 0))


def _durable(state: WhatsAppState) -> Durable:
    return (state.state, state.phone, state.name, state.reason)


def _is_durable(state: WhatsAppState) -> bool:
    if state.state in _PASSING:
        return False
    return not (state.state == "stopped" and state.reason in _QUIET_STOP_REASONS)


def _alert_for(slug: str, new: WhatsAppState, saved: Durable) -> Alert | None:
    """The alert a change from the saved state deserves, once per change of state."""
    was_state, _, _, was_reason = saved
    if new.state == "connected" and was_state != "connected":
        return Alert(slug, AlertKind.CONNECTED, _detail(phone=new.phone, name=new.name))
    if new.state == "logged_out" and was_state != "logged_out":
        return Alert(slug, AlertKind.LOGGED_OUT, _detail(phone=new.phone, reason=new.reason))
    if new.state == "banned" and (was_state, was_reason) != ("banned", new.reason):
        # A temporary ban that becomes a permanent one is news too.
        until = new.until.isoformat() if new.until else None
        return Alert(slug, AlertKind.BANNED, _detail(phone=new.phone, reason=new.reason, until=until))
    if new.state == "stopped" and new.reason == "qr_timeout" and (was_state, was_reason) != ("stopped", "qr_timeout"):
        return Alert(slug, AlertKind.QR_TIMEOUT, {})
    return None


def _detail(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}


