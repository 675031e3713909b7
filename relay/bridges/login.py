"""Linking a tenant's WhatsApp: what the admin bot and the landing page call."""

from __future__ import annotations

import logging

from core.events import WhatsAppState
from relay.bridges.errors import BridgeDisabled, BridgeError, BridgeNotConnected, BridgeTimeout
from relay.bridges.registry import Bridges
from relay.bridges.states import WhatsAppStates
from relay.bridges.supervisor import BridgeSupervisor
from tenants import validation
from tenants.service import TenantService

log = logging.getLogger("relay.bridge.login")

# In these states a running bridge issues no more QRs by itself: it needs a fresh start.
_NEEDS_FRESH_START = {"stopped", "logged_out"}


class WhatsAppLogin:
    """QR and pairing-code login, and logout, for one tenant at a time."""

    def __init__(
        self, tenants: TenantService, supervisor: BridgeSupervisor, bridges: Bridges, states: WhatsAppStates,
        *, pairing_timeout: float = 30.0, connect_timeout: float = 30.0,
    ) -> None:
        self._tenants = tenants
        self._supervisor = supervisor
        self._bridges = bridges
        self._states = states
        self._pairing_timeout = pairing_timeout
        self._connect_timeout = connect_timeout

    async def request_qr(self, slug: str) -> WhatsAppState:
        """Make sure QRs are coming: start the bridge, or restart it after a stop or a logout.

        Returns the current state (its `qr` is set once the bridge sent one; follow
        WhatsAppStateChanged for the next ones). TenantNotFound, BridgeDisabled.
        """
        slug = await self._enabled_tenant(slug)
        state = self._states.get(slug)
        if state.state == "connected":
            return state
        if not self._supervisor.enabled:
            await self._fresh_login_remote(slug, state)
        elif not self._supervisor.is_running(slug):
            log.info("tenant %s: starting the bridge for a QR", slug)
            await self._supervisor.ensure_running(slug)
        elif state.state in _NEEDS_FRESH_START and self._bridges.is_connected(slug):
            log.info("tenant %s: restarting the bridge (%s) for a new QR", slug, state.state)
            await self._supervisor.restart(slug)
        return self._states.get(slug)

    async def pairing_code(self, slug: str, phone: str) -> str:
        """Ask for an 8-character pairing code for `phone` and wait for it (about 30 s).

        InvalidInput for a bad phone; BridgeError (with a clear message) otherwise.
        """
        digits = validation.phone(phone)
        slug = await self._enabled_tenant(slug)
        if self._states.get(slug).state == "connected":
            raise BridgeError("this WhatsApp is already linked; unlink it before pairing another phone")
        await self._connected_bridge(slug)
        self._states.clear_pairing_code(slug)
        await self._bridges.pair(slug, digits)
        try:
            state = await self._states.wait_for(slug, lambda s: s.pairing_code, self._pairing_timeout)
        except TimeoutError:
            raise BridgeTimeout(slug, "pair", self._pairing_timeout) from None
        return state.pairing_code or ""

    async def logout(self, slug: str) -> None:
        """Unlink the tenant's WhatsApp; the bridge wipes the session and starts a new login."""
        tenant = await self._tenants.get(slug)
        await self._bridges.logout(tenant.slug)

    async def _enabled_tenant(self, slug: str) -> str:
        tenant = await self._tenants.get(slug)
        if not tenant.enabled:
            raise BridgeDisabled(tenant.slug)
        return tenant.slug

    async def _connected_bridge(self, slug: str) -> None:
        """Start the bridge if needed and wait until it is connected and has reported."""
        if self._bridges.is_connected(slug):
            return
        if self._supervisor.enabled and not self._supervisor.is_running(slug):
            await self._supervisor.ensure_running(slug)
        try:
            await self._states.wait_for(
                slug, lambda s: self._bridges.is_connected(slug) and s.state != "stopped", self._connect_timeout
            )
        except TimeoutError:
            raise BridgeNotConnected(slug) from None

    async def _fresh_login_remote(self, slug: str, state: WhatsAppState) -> None:
        """Without a local supervisor the bridge runs elsewhere: ask it for a fresh login."""
        if not self._bridges.is_connected(slug):
            raise BridgeNotConnected(slug)
        if state.state == "logged_out":
            await self._bridges.logout(slug)
