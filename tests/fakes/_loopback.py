"""What every fake shares: an aiohttp server on 127.0.0.1 and waiting on recorded state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Self

from aiohttp import web


class FakeTimeout(AssertionError):
    """A `wait_for` helper gave up: what the test expected never happened."""


class ChangeNotifier:
    """Wakes waiters whenever a fake records something, so tests wait without sleeps."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def changed(self) -> None:
        """Record that the observed state changed; every waiter re-checks its predicate."""
        self._event.set()
        self._event = asyncio.Event()

    async def next_change(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the next change; return whether one happened."""
        try:
            await asyncio.wait_for(self._event.wait(), max(timeout, 0))
        except TimeoutError:
            return False
        return True

    async def wait_until[T](
        self, check: Callable[[], T], timeout: float, what: str | Callable[[], str]
    ) -> T:
        """Return the first truthy `check()`; raise FakeTimeout after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                detail = what() if callable(what) else what
                raise FakeTimeout(f"timed out after {timeout}s waiting for {detail}")
            await self.next_change(remaining)


class LoopbackServer:
    """An aiohttp application served on 127.0.0.1 at a free port, started and stopped by hand."""

    def __init__(self) -> None:
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.changes = ChangeNotifier()
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
        if not self.port:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        """Bind a loopback port (a free one unless `port` is given) and serve."""
        self._closing.clear()
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Wake every parked request (long polls, injected hangs) and close the server."""
        self._closing.set()
        self.changes.changed()
        if self._runner is not None:
            await self._on_stop()
            await self._runner.cleanup()
            self._runner = None

    async def _on_stop(self) -> None:
        """Hook for subclasses that hold open connections (websockets)."""

    async def pause(self, seconds: float) -> bool:
        """Sleep up to `seconds` inside a handler; return False early if the server is stopping."""
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return True
        return False

    async def wait_for(self, predicate: Callable[[Self], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate(self)` is truthy and return its value."""
        return await self.changes.wait_until(
            lambda: predicate(self), timeout, f"{predicate!r} on {type(self).__name__}"
        )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
