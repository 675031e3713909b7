"""An in-process event bus: publishers never wait for subscribers.

Each subscription has its own queue and worker, so one slow subscriber (Telegram, say)
delays nobody else, and each subscriber sees events in the order they were published.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from core.tasks import cancel, spawn

log = logging.getLogger("core.bus")

Handler = Callable[[Any], Awaitable[None]]


class _Subscription:
    def __init__(self, name: str, handler: Handler, types: tuple[type, ...]) -> None:
        self.name = name
        self.handler = handler
        self.types = types
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                await self.handler(event)
            except Exception:
                log.exception("subscriber %s failed on %s", self.name, type(event).__name__)
            finally:
                self.queue.task_done()


class EventBus:
    """Typed publish/subscribe within one process."""

    def __init__(self) -> None:
        self._subscriptions: list[_Subscription] = []
        self._started = False

    def subscribe(self, name: str, handler: Handler, *types: type) -> None:
        """Call `handler` for every published event that is an instance of one of `types`."""
        sub = _Subscription(name, handler, types)
        self._subscriptions.append(sub)
        if self._started:
            sub.task = spawn(sub.run(), name=f"bus:{name}")

    def publish(self, event: object) -> None:
        """Hand `event` to every matching subscriber; never blocks."""
        for sub in self._subscriptions:
            if isinstance(event, sub.types):
                sub.queue.put_nowait(event)

    async def drain(self) -> None:
        """Wait until every subscriber has handled everything published so far."""
        await asyncio.gather(*(s.queue.join() for s in self._subscriptions if s.task))

    async def start(self) -> None:
        self._started = True
        for sub in self._subscriptions:
            if sub.task is None:
                sub.task = spawn(sub.run(), name=f"bus:{sub.name}")

    async def stop(self) -> None:
        self._started = False
        await cancel(*(s.task for s in self._subscriptions))
        for sub in self._subscriptions:
            sub.task = None
