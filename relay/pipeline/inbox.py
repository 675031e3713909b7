"""One inbox per tenant: what a tenant's bridge reports is handled in order, by a worker
of that tenant's own, so one tenant's slow bridge or burst never delays another's.

Messages are bounded per tenant, by count and by bytes (a frame may carry up to 20 MiB of
media). A message that does not fit is dropped *unacked*, and so is every later one until
the inbox has drained: the bridge keeps them and sends them again, in order, after
reconnecting, which `on_overflow` then asks it to do. Control events (a bridge
connecting, a tenant changing) are always accepted and keep their place in line.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.tasks import cancel, spawn

log = logging.getLogger("relay.pipeline.inbox")

Handler = Callable[[str, object], Awaitable[None]]


@dataclass
class _Queue:
    items: deque[tuple[object, int]] = field(default_factory=deque)
    messages: int = 0
    bytes: int = 0
    task: asyncio.Task | None = None
    overflowing: bool = False


class TenantInboxes:
    """Runs `handle(tenant, item)` for each tenant's items in order, tenants in parallel."""

    def __init__(
        self, handle: Handler, on_overflow: Callable[[str], None], *,
        max_messages: int = 500, max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self._handle = handle
        self._on_overflow = on_overflow
        self._max_messages = max_messages
        self._max_bytes = max_bytes
        self._queues: dict[str, _Queue] = {}
        self._stopped = False

    def put_message(self, tenant: str, item: object, size: int) -> bool:
        """Queue a message of `size` bytes; False if the tenant's inbox is full. Once full,
        every message is refused until the inbox has drained (so none overtakes one that
        was refused); then `on_overflow` asks the bridge to send the refused ones again."""
        queue = self._queues.setdefault(tenant, _Queue())
        full = queue.messages and (queue.messages >= self._max_messages or queue.bytes + size > self._max_bytes)
        if queue.overflowing or full:
            if not queue.overflowing:
                queue.overflowing = True
                log.warning("tenant %s: inbox full (%d messages, %d bytes); the bridge will resend the rest",
                            tenant, queue.messages, queue.bytes)
            return False
        queue.messages += 1
        queue.bytes += size
        self._append(tenant, queue, item, size)
        return True

    def put(self, tenant: str, item: object) -> None:
        """Queue a control item (never refused)."""
        self._append(tenant, self._queues.setdefault(tenant, _Queue()), item, -1)

    def busy(self) -> int:
        """Items waiting or being handled, all tenants."""
        return sum(len(q.items) + (1 if q.task is not None else 0) for q in self._queues.values())

    def forget(self, tenant: str) -> None:
        """Drop what the tenant still has queued (the tenant is gone)."""
        queue = self._queues.get(tenant)
        if queue is not None:
            queue.items.clear()
            queue.messages = queue.bytes = 0

    async def stop(self) -> None:
        self._stopped = True
        await cancel(*(q.task for q in self._queues.values()))
        self._queues.clear()

    def _append(self, tenant: str, queue: _Queue, item: object, size: int) -> None:
        if self._stopped:
            return
        queue.items.append((item, size))
        if queue.task is None:
            queue.task = spawn(self._drain(tenant, queue), name=f"inbox:{tenant}")

    async def _drain(self, tenant: str, queue: _Queue) -> None:
        try:
            while queue.items:
                item, size = queue.items[0]
                try:
                    await self._handle(tenant, item)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("tenant %s: handling %s failed", tenant, type(item).__name__)
                finally:
                    if queue.items and queue.items[0][0] is item:
                        queue.items.popleft()
                        if size >= 0:
                            queue.messages -= 1
                            queue.bytes -= size
                    if queue.messages == 0 and queue.overflowing:
                        # Drained, and its acks went out on the live connection: only the
                        # refused messages are left unacked, and a reconnect resends them in order.
                        queue.overflowing = False
                        self._on_overflow(tenant)
        finally:
            queue.task = None
