"""Sending texts to WhatsApp through the outbox, so a restart neither loses nor repeats one.

Texts of one chat go out in order: a text that cannot go now (bridge away, timeout, an
error the bridge may get past) stays in the outbox, and its chat is *stuck*: later texts
of that chat wait behind it instead of overtaking it. Stuck chats are retried whenever
the bridge (re)connects and periodically while it stays connected (`retry_stuck`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable

from core.clock import Clock
from core.events import Alert, AlertKind
from core.metrics import Metrics
from core.tasks import cancel, spawn
from relay.bridges.errors import BridgeCommandFailed, BridgeError, BridgeNotConnected
from relay.outbox import Outbox, OutgoingText
from relay.pipeline.bridge_port import BridgeCommands

log = logging.getLogger("relay.pipeline.replies")

# The bridge is up but its WhatsApp socket is not (yet): nothing was sent under the ref,
# so the same ref can go again once WhatsApp connects. Never counted against a text.
NOT_CONNECTED = "not_connected"
# The bridge started this send before it crashed: it may have reached the customer, and
# sending again could double it. Dropped, counted and alerted.
OUTCOME_UNKNOWN = "outcome_unknown"
# Refusals that resending the same text cannot change (the bridge could not read the frame).
PERMANENT_PREFIXES = ("invalid_frame",)
# Other failures ("Connection Closed", a timeout...) are retried, up to this many times.
MAX_ATTEMPTS = 10

ChatKey = tuple[str, str]


class ReplySender:
    """Writes each text to the outbox, sends it, and removes it once the bridge confirms."""

    def __init__(
        self, outbox: Outbox, bridges: BridgeCommands, clock: Clock, metrics: Metrics,
        alert: Callable[[Alert], None] | None = None,
    ) -> None:
        self._outbox = outbox
        self._bridges = bridges
        self._clock = clock
        self._metrics = metrics
        self._alert = alert or (lambda _alert: None)
        self._locks: dict[ChatKey, asyncio.Lock] = {}
        self._stuck: set[ChatKey] = set()
        self._attempts: dict[str, int] = {}
        self._background: set[asyncio.Task] = set()

    async def send(self, tenant: str, chat: str, parts: list[tuple[str, str]]) -> bool:
        """Queue and send (ref, text) parts in order; False if some wait in the outbox."""
        items = self._outbox.prepare(tenant, chat, parts)
        await self._outbox.put(items, self._clock.now())
        return await self.deliver(items)

    def prepare(self, tenant: str, chat: str, parts: list[tuple[str, str]]) -> list[OutgoingText]:
        """A turn's reply as outbox entries, for `MessageLog.settle` to queue; then `deliver` them."""
        return self._outbox.prepare(tenant, chat, parts)

    async def deliver(self, items: list[OutgoingText]) -> bool:
        """Send texts already in the outbox (all of one chat), in order, unless earlier texts
        of that chat still wait: then these wait behind them."""
        if not items:
            return True
        key = (items[0].tenant, items[0].chat)
        async with self._lock(key):
            if key in self._stuck:
                log.info("tenant %s: %d text(s) wait behind an earlier one in the outbox", key[0], len(items))
                return False
            return await self._deliver_in_order(key, items)

    async def notice(self, tenant: str, chat: str, text: str, ref: str | None = None) -> bool:
        """Send a one-off text (a confirmation, the fallback), with a fresh ref unless given one."""
        return await self.send(tenant, chat, [(ref or f"n-{secrets.token_hex(12)}", text)])

    def notice_soon(self, tenant: str, chat: str, text: str, ref: str | None = None) -> None:
        """`notice` in the background, so that the caller (the receiving path) never waits
        for a bridge; order per chat is kept by the chat's lock."""
        task = spawn(self.notice(tenant, chat, text, ref), name=f"notice:{tenant}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def flush(self, tenant: str) -> int:
        """Resend everything the tenant's outbox holds, oldest first per chat, with the same
        refs; a chat that cannot go does not hold up the others."""
        chats = {item.chat for item in await self._outbox.waiting(tenant)}
        chats.update(chat for t, chat in self._stuck if t == tenant)
        sent = 0
        for chat in sorted(chats):
            key = (tenant, chat)
            async with self._lock(key):
                # Read under the lock: texts that waited behind a stuck one are included.
                items = await self._outbox.waiting_in(tenant, chat)
                if await self._deliver_in_order(key, items):
                    sent += len(items)
        if sent:
            log.info("tenant %s: %d queued message(s) delivered", tenant, sent)
        return sent

    async def retry_stuck(self, connected: Callable[[str], bool]) -> int:
        """Flush every tenant that has a stuck chat and a connected bridge; texts sent."""
        sent = 0
        for tenant in sorted({tenant for tenant, _chat in self._stuck}):
            if connected(tenant):
                sent += await self.flush(tenant)
        return sent

    def stuck(self, tenant: str) -> int:
        """How many of the tenant's chats have a text waiting."""
        return sum(1 for t, _chat in self._stuck if t == tenant)

    def busy(self) -> int:
        """Notices on their way."""
        return len(self._background)

    def forget(self, tenant: str) -> None:
        """The tenant is gone."""
        self._stuck = {key for key in self._stuck if key[0] != tenant}
        for key in [k for k in self._locks if k[0] == tenant]:
            del self._locks[key]

    async def stop(self) -> None:
        """Wait briefly for background notices, then cancel the rest (they are in the outbox
        either way, and nothing may write to the store after the pipeline stops)."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=1.0)
        await cancel(*self._background)

    def _lock(self, key: ChatKey) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _deliver_in_order(self, key: ChatKey, items: list[OutgoingText]) -> bool:
        for item in items:
            if not await self._deliver(item):
                self._stuck.add(key)
                return False
        self._stuck.discard(key)
        return True

    async def _deliver(self, item: OutgoingText) -> bool:
        """Send one text; True when it has left the outbox (sent, or given up for good)."""
        try:
            await self._bridges.send_text(item.tenant, item.chat, item.text, item.ref)
        except BridgeNotConnected:
            log.info("tenant %s: bridge not connected; reply %s waits in the outbox", item.tenant, item.ref)
            return False
        except BridgeCommandFailed as exc:
            if exc.error == NOT_CONNECTED:
                log.info("tenant %s: WhatsApp is not connected; reply %s waits in the outbox", item.tenant, item.ref)
                return False
            if exc.error == OUTCOME_UNKNOWN:
                return await self._uncertain(item)
            if exc.error.startswith(PERMANENT_PREFIXES):
                return await self._give_up(item, exc)
            return await self._failed_attempt(item, exc)
        except BridgeError as exc:  # a timeout, the connection dropping mid-command
            return await self._failed_attempt(item, exc)
        self._attempts.pop(item.ref, None)
        await self._outbox.done(item)
        self._metrics.messages_out.labels(item.tenant).inc()
        return True

    async def _failed_attempt(self, item: OutgoingText, exc: Exception) -> bool:
        attempts = self._attempts[item.ref] = self._attempts.get(item.ref, 0) + 1
        self._metrics.errors.labels("bridge_send").inc()
        if attempts >= MAX_ATTEMPTS:
            return await self._give_up(item, exc)
        log.warning("tenant %s: sending %s failed (%s); kept in the outbox, attempt %d of %d",
                    item.tenant, item.ref, exc, attempts, MAX_ATTEMPTS)
        return False

    async def _give_up(self, item: OutgoingText, exc: Exception) -> bool:
        self._attempts.pop(item.ref, None)
        self._metrics.errors.labels("bridge_send").inc()
        log.error("tenant %s: the bridge refused %s for good (%s); dropped", item.tenant, item.ref, exc)
        await self._outbox.done(item)
        self._alert(Alert(item.tenant, AlertKind.SEND_FAILED, {"chat": item.chat}))
        return True

    async def _uncertain(self, item: OutgoingText) -> bool:
        self._attempts.pop(item.ref, None)
        self._metrics.errors.labels("bridge_send_uncertain").inc()
        log.warning("tenant %s: the bridge does not know whether %s reached the customer (it restarted "
                    "mid-send); not sent again, so it is never doubled", item.tenant, item.ref)
        await self._outbox.done(item)
        self._alert(Alert(item.tenant, AlertKind.SEND_UNCERTAIN, {"chat": item.chat}))
        return True
