"""Live updates for open landing pages: bus events fanned out to each page's SSE stream.

Every open page holds one `PageStream`. A WhatsAppStateChanged for its tenant replaces
the stream's pending state (only the newest matters: QRs go stale in seconds, so a slow
browser skips the ones it missed instead of queueing them); a tenant change asks the
page to reload, so a rotated link or a disabled tenant takes effect at once.

Streams are limited per landing link, per client address and in total, so that one
address cannot hold the relay's loop with thousands of them; what they are sent is
rendered once per state and language (`SharedRenders`) and the same text goes to all.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Hashable

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

    def __init__(self, tenant: str, address: str = "") -> None:
        self.tenant = tenant
        self.address = address
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

    def __init__(self, bus: EventBus, *, per_link: int = 10, per_address: int = 20, total: int = 1000) -> None:
        self._streams: dict[str, set[PageStream]] = defaultdict(set)
        self._by_address: Counter[str] = Counter()
        self._total = 0
        self._limits = (per_link, per_address, total)
        bus.subscribe("landing-pages", self._on_state, WhatsAppStateChanged)
        bus.subscribe(
            "landing-pages-tenants", self._on_tenant, TenantUpdated, TenantDisabled, TenantEnabled, TenantDeleted
        )

    def refusal(self, tenant: str, address: str) -> str | None:
        """Why one more stream of `tenant` from `address` is refused, or None when it fits."""
        per_link, per_address, total = self._limits
        if self.count(tenant) >= per_link:
            return f"{per_link} streams open on this link"
        if self._by_address[address] >= per_address:
            return f"{per_address} streams open from this address"
        if self._total >= total:
            return f"{total} streams open in all (LANDING_STREAMS_MAX)"
        return None

    def open(self, tenant: str, address: str = "") -> PageStream:
        """A stream for one newly connected page of `tenant` (check `refusal` first)."""
        stream = PageStream(tenant, address)
        self._streams[tenant].add(stream)
        self._by_address[address] += 1
        self._total += 1
        return stream

    def close(self, stream: PageStream) -> None:
        """Forget a page that went away."""
        streams = self._streams.get(stream.tenant)
        if streams is None or stream not in streams:
            return
        streams.discard(stream)
        if not streams:
            del self._streams[stream.tenant]
        self._total -= 1
        self._by_address[stream.address] -= 1
        if self._by_address[stream.address] <= 0:
            del self._by_address[stream.address]

    def count(self, tenant: str) -> int:
        """How many pages of `tenant` are open (for tests and metrics)."""
        return len(self._streams.get(tenant, ()))

    @property
    def total(self) -> int:
        """How many pages are open in all."""
        return self._total

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


class SharedRenders:
    """What every open page is sent, made once per key and shared for a few seconds.

    Concurrent requests for one key wait on the same rendering; the newest `size` keys
    are kept, each for `ttl` seconds (a panel shows counters that move on).
    """

    def __init__(self, size: int = 256, ttl: float = 10.0) -> None:
        self._size = size
        self._ttl = ttl
        self._made: OrderedDict[Hashable, tuple[float, asyncio.Future[str]]] = OrderedDict()

    async def get(self, key: Hashable, make: Callable[[], Awaitable[str]]) -> str:
        """The text for `key`, made by `make()` unless it was made moments ago."""
        loop = asyncio.get_running_loop()
        entry = self._made.get(key)
        if entry is None or loop.time() - entry[0] > self._ttl or _failed(entry[1]):
            entry = (loop.time(), asyncio.ensure_future(make()))
            self._made[key] = entry
            while len(self._made) > self._size:
                self._made.popitem(last=False)
        self._made.move_to_end(key)
        return await asyncio.shield(entry[1])


def _failed(future: asyncio.Future[str]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)
