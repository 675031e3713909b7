"""A job run once a day at a time of day in a time zone, against the injected clock.

The loop sleeps on real time but decides on `clock.now()`, so tests move a FakeClock and
call `tick()`; the first run is the next occurrence after start-up (a restart at 09:00
does not send the 08:00 digest again).
"""

from __future__ import annotations

import asyncio
import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

from core.clock import Clock
from core.tasks import cancel, spawn

log = logging.getLogger("core.daily_job")

LONGEST_SLEEP = 60.0  # seconds between two looks at the clock, at most


def next_occurrence(after: datetime, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """The first moment strictly after `after` whose local time in `zone` is `at` (UTC)."""
    day = after.astimezone(zone).date()
    while True:
        candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
        day += timedelta(days=1)


class DailyJob:
    """Runs `job(now)` once a day at `at` in `zone`; `at=None` never runs it."""

    def __init__(self, clock: Clock, at: time | None, zone: str, job: Callable[[datetime], Awaitable[None]],
                 *, name: str) -> None:
        self._clock = clock
        self._at = at
        self._zone = zoneinfo.ZoneInfo(zone)
        self._job = job
        self._name = name
        self._next: datetime | None = None
        self._task: asyncio.Task | None = None

    @property
    def next_run(self) -> datetime | None:
        return self._next

    async def start(self) -> None:
        """Plan the first run from the clock and start looking at it; nothing when off."""
        if self._at is None or self._task is not None:
            return
        self._next = next_occurrence(self._clock.now(), self._at, self._zone)
        log.info("%s: next at %s", self._name, self._next.isoformat())
        self._task = spawn(self._loop(), name=self._name)

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def tick(self) -> bool:
        """Run the job if its time has come (once, then plan the next day's); whether it ran."""
        now = self._clock.now()
        if self._next is None or now < self._next:
            return False
        self._next = next_occurrence(now, self._at, self._zone)
        try:
            await self._job(now)
        except Exception:
            log.exception("%s failed; next at %s", self._name, self._next.isoformat())
        return True

    async def _loop(self) -> None:
        while True:
            wait = (self._next - self._clock.now()).total_seconds() if self._next else LONGEST_SLEEP
            await asyncio.sleep(min(max(wait, 1.0), LONGEST_SLEEP))
            await self.tick()
