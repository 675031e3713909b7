"""One lane per chat: debounces bursts into turns, runs one turn at a time, in order.

Messages that arrive while a chat's turn is being answered wait for the next turn.
Lanes of different chats run concurrently, bounded per tenant and in total. A turn
that must wait for a working OpenAI key is parked in its lane until woken.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.tasks import cancel, spawn

log = logging.getLogger("relay.pipeline.lanes")

# A chat that keeps typing is answered after at most this many windows.
MAX_DEBOUNCE_WINDOWS = 5


@dataclass(frozen=True, slots=True)
class Incoming:
    """A customer message waiting to become part of a turn."""

    tenant: str
    chat: str
    id: str
    kind: str
    text: str | None = None
    media_base64: str | None = None
    media_mime: str | None = None
    at: datetime | None = None  # when the customer wrote it (the message's own time)
    media_seconds: float | None = None  # a voice note's length, when the bridge said


class Outcome(enum.Enum):
    """What became of a turn."""

    DONE = "done"  # answered, held or given up: its messages leave the lane
    KEEP = "keep"  # OpenAI key or quota trouble: park it until woken


TurnRunner = Callable[[str, str, list[Incoming]], Awaitable[Outcome]]


@dataclass
class _Lane:
    tenant: str
    chat: str
    debounce: float
    buffer: list[Incoming] = field(default_factory=list)
    first_arrival: float = 0.0
    last_arrival: float = 0.0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    parked: bool = False


class ChatLanes:
    """Runs turns per chat with `run_turn`; see the module docstring."""

    def __init__(self, run_turn: TurnRunner, *, per_tenant: int = 8, total: int = 64) -> None:
        self._run_turn = run_turn
        self._per_tenant = per_tenant
        self._total = asyncio.Semaphore(total)
        self._tenant_slots: dict[str, asyncio.Semaphore] = {}
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._known: set[tuple[str, str]] = set()
        self._stopped = False

    def knows(self, tenant: str, message_id: str) -> bool:
        """The message is waiting in, or being answered by, a lane."""
        return (tenant, message_id) in self._known

    def add(self, item: Incoming, debounce: float) -> None:
        """Queue a customer message for its chat's next turn."""
        if self._stopped or self.knows(item.tenant, item.id):
            return
        loop = asyncio.get_running_loop()
        key = (item.tenant, item.chat)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(item.tenant, item.chat, debounce)
        if not lane.buffer:
            lane.first_arrival = loop.time()
        lane.debounce = debounce
        lane.last_arrival = loop.time()
        lane.buffer.append(item)
        self._known.add((item.tenant, item.id))
        lane.wake.set()
        lane.parked = False
        if lane.task is None:
            lane.task = spawn(self._run(lane), name=f"lane:{item.tenant}")

    def wake(self, tenant: str) -> int:
        """Retry the tenant's parked turns now (its key works again); return how many."""
        woken = 0
        for lane in self._lanes.values():
            if lane.tenant == tenant and lane.buffer:
                lane.wake.set()
                lane.parked = False
                woken += 1
        return woken

    def busy(self) -> int:
        """Chats with something queued or in flight (parked turns not counted)."""
        return sum(1 for lane in self._lanes.values() if not lane.parked)

    async def stop(self, grace: float = 5.0) -> None:
        """Start no new turn; let turns in flight finish for up to `grace` seconds."""
        self._stopped = True
        for lane in self._lanes.values():
            lane.wake.set()
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        await cancel(*tasks)
        self._lanes.clear()
        self._known.clear()

    async def _run(self, lane: _Lane) -> None:
        try:
            while lane.buffer and not self._stopped:
                await self._debounce(lane)
                if self._stopped:
                    break
                items, lane.buffer = lane.buffer, []
                lane.wake.clear()
                outcome = await self._turn(lane, items)
                if outcome is Outcome.KEEP:
                    lane.buffer[:0] = items
                    lane.parked = True
                    await lane.wake.wait()
                    lane.parked = False
                else:
                    self._known.difference_update((lane.tenant, i.id) for i in items)
        finally:
            lane.task = None
            if not lane.buffer and self._lanes.get((lane.tenant, lane.chat)) is lane:
                del self._lanes[(lane.tenant, lane.chat)]

    async def _turn(self, lane: _Lane, items: list[Incoming]) -> Outcome:
        slots = self._tenant_slots.setdefault(lane.tenant, asyncio.Semaphore(self._per_tenant))
        async with slots, self._total:
            try:
                return await self._run_turn(lane.tenant, lane.chat, items)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tenant %s: a turn failed unexpectedly; its messages are dropped", lane.tenant)
                return Outcome.DONE

    async def _debounce(self, lane: _Lane) -> None:
        if lane.debounce <= 0:
            return
        loop = asyncio.get_running_loop()
        cap = lane.first_arrival + lane.debounce * MAX_DEBOUNCE_WINDOWS
        while not self._stopped:
            wait = min(lane.last_arrival + lane.debounce, cap) - loop.time()
            if wait <= 0:
                return
            await asyncio.sleep(wait)
