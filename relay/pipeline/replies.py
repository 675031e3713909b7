"""Sending texts to WhatsApp through the outbox, so a restart neither loses nor repeats one."""

from __future__ import annotations

import asyncio
import logging
import secrets

from core.clock import Clock
from core.metrics import Metrics
from relay.bridges.errors import BridgeCommandFailed, BridgeError, BridgeNotConnected
from relay.outbox import Outbox, OutgoingText
from relay.pipeline.bridge_port import BridgeCommands

log = logging.getLogger("relay.pipeline.replies")

# The bridge is up but its WhatsApp socket is not (yet): the bridge sent nothing and
# recorded nothing under the ref, so the same ref can go again once WhatsApp connects.
RETRYABLE_ERRORS = frozenset({"not_connected"})


class ReplySender:
    """Writes each text to the outbox, sends it, and removes it once the bridge confirms."""

    def __init__(self, outbox: Outbox, bridges: BridgeCommands, clock: Clock, metrics: Metrics) -> None:
        self._outbox = outbox
        self._bridges = bridges
        self._clock = clock
        self._metrics = metrics
        self._flushing: dict[str, asyncio.Lock] = {}

    async def send(self, tenant: str, chat: str, parts: list[tuple[str, str]]) -> bool:
        """Queue and send (ref, text) parts in order; False if some wait in the outbox for a reconnect."""
        items = self._outbox.prepare(tenant, chat, parts)
        await self._outbox.put(items, self._clock.now())
        return await self.deliver(items)

    def prepare(self, tenant: str, chat: str, parts: list[tuple[str, str]]) -> list[OutgoingText]:
        """A turn's reply as outbox entries, for `MessageLog.settle` to queue; then `deliver` them."""
        return self._outbox.prepare(tenant, chat, parts)

    async def deliver(self, items: list[OutgoingText]) -> bool:
        """Send texts already in the outbox, in order; stop at the first that cannot go."""
        for item in items:
            if not await self._deliver(item):
                return False
        return True

    async def notice(self, tenant: str, chat: str, text: str, ref: str | None = None) -> bool:
        """Send a one-off text (a confirmation, the fallback), with a fresh ref unless given one."""
        return await self.send(tenant, chat, [(ref or f"n-{secrets.token_hex(12)}", text)])

    async def flush(self, tenant: str) -> int:
        """Resend everything the tenant's outbox holds, oldest first, with the same refs."""
        lock = self._flushing.setdefault(tenant, asyncio.Lock())
        sent = 0
        async with lock:
            for item in await self._outbox.waiting(tenant):
                if not await self._deliver(item):
                    break
                sent += 1
        if sent:
            log.info("tenant %s: %d queued message(s) delivered after reconnecting", tenant, sent)
        return sent

    async def _deliver(self, item: OutgoingText) -> bool:
        try:
            await self._bridges.send_text(item.tenant, item.chat, item.text, item.ref)
        except BridgeNotConnected:
            log.info("tenant %s: bridge not connected; reply %s waits in the outbox", item.tenant, item.ref)
            return False
        except BridgeCommandFailed as exc:
            if exc.error in RETRYABLE_ERRORS:
                log.info("tenant %s: WhatsApp is not connected; reply %s waits in the outbox", item.tenant, item.ref)
                return False
            # WhatsApp refused this text; resending the same ref would fail the same way.
            self._metrics.errors.labels("bridge_send").inc()
            log.warning("tenant %s: the bridge refused %s (%s); dropped", item.tenant, item.ref, exc)
            await self._outbox.done(item)
            return True
        except BridgeError as exc:
            self._metrics.errors.labels("bridge_send").inc()
            log.warning("tenant %s: sending %s failed (%s); kept in the outbox", item.tenant, item.ref, exc)
            return False
        await self._outbox.done(item)
        self._metrics.messages_out.labels(item.tenant).inc()
        return True
