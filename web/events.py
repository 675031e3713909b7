"""Live updates for open landing pages: bus events fanned out to each page's SSE stream.

Every open page holds one `PageStream`. A WhatsAppStateChanged for its tenant replaces
the stream's pending state (only the newest matters: QRs go stale in seconds, so a slow
browser skips the ones it missed instead of queueing them); a tenant change asks the
page to reload, so a rotated link or a disabled tenant takes effect at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from core.bus import EventBus
from core.events import (
    TenantDeleted,
    TenantDisabled,
    TenantEnabled,
    TenantUpdated,
    WhatsAppState,
    WhatsAppStateChanged,
)

log = logging.getLogger("web.events")


class PageStream:
    """What one open page is waiting for: the newest state, a reload, or the end."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.pending: WhatsAppState | None = None
        self.reload = False
        self.closed = False
        self._wake = asyncio.Event()

    def push(self, state: WhatsAppState) -> None:
        self.pending = state
        self._wake.set()

    def ask_reload(self) -> None:
        self.reload = True
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def wait(self) -> None:
        """Wait until something happened; the caller reads `pending`, `reload`, `closed`."""
        await self._wake.wait()
        self._wake.clear()

    def take(self) -> WhatsAppState | None:
        state, self.pending = self.pending, None
        return state


class LiveUpdates:
    """Subscribes to the bus once and hands each event to the open pages of its tenant."""

    def __init__(self, bus: EventBus) -> None:
        self._streams: dict[str, set[PageStream]] = defaultdict(set)
        bus.subscribe("landing-pages", self._on_state, WhatsAppStateChanged)
        bus.subscribe(
            "landing-pages-tenants", self._on_tenant, TenantUpdated, TenantDisabled, TenantEnabled, TenantDeleted
        )

    def open(self, tenant: str) -> PageStream:
        """A stream for one newly connected page of `tenant`."""
        stream = PageStream(tenant)
        self._streams[tenant].add(stream)
        return stream

    def close(self, stream: PageStream) -> None:
        """Forget a page that went away."""
        streams = self._streams.get(stream.tenant)
        if streams is not None:
            streams.discard(stream)
            if not streams:
                del self._streams[stream.tenant]

    def count(self, tenant: str) -> int:
        """How many pages of `tenant` are open (for tests and metrics)."""
        return len(self._streams.get(tenant, ()))

    async def _on_state(self, event: WhatsAppStateChanged) -> None:
        for stream in list(self._streams.get(event.tenant, ())):
            stream.push(event.state)

    async def _on_tenant(self, event: object) -> None:
        tenant = getattr(event, "tenant", None)
        for stream in list(self._streams.get(tenant, ())):
            stream.ask_reload()

    def close_all(self) -> None:
        """End every open stream (at shutdown)."""
        for streams in list(self._streams.values()):
            for stream in list(streams):
                stream.close()
        log.debug("closed every landing page stream")
