"""Replies WhatsApp refused after accepting them (`send_failed`, docs/PROTOCOL.md).

Each refusal is recorded once in the message log under its event id, so a bridge that
resends it (it keeps event frames until they are acked, across its restarts and the
relay's) is acked again without a second alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.clock import Clock
from core.events import Alert, AlertKind
from core.metrics import Metrics
from relay.bridges.errors import BridgeError
from relay.message_log import MessageLog
from relay.pipeline.bridge_port import BridgeCommands
from relay.protocol import Message, SendFailed

log = logging.getLogger("relay.pipeline.rejections")


class SendRejections:
    """Records, acks and reports each `send_failed` once."""

    def __init__(
        self, messages: MessageLog, bridges: BridgeCommands, clock: Clock, metrics: Metrics,
        alert: Callable[[Alert], None],
    ) -> None:
        self._messages = messages
        self._bridges = bridges
        self._clock = clock
        self._metrics = metrics
        self._alert = alert

    async def handle(self, slug: str, frame: SendFailed) -> None:
        """Record before the ack (a store error leaves it unacked: the bridge sends it again),
        then count, log and alert the first time only."""
        # Kept among the chat's recent ids like a message of its own: no customer turn, no count.
        entry = Message(type="message", id=frame.id, chat=frame.chat, from_me=True, sent_by_bridge=True, kind="other")
        fresh = await self._messages.record(slug, entry, customer=False, now=self._clock.now())
        try:
            await self._bridges.ack(slug, frame.id)
        except BridgeError as exc:
            log.info("tenant %s: ack of %s not sent (%s)", slug, frame.id, exc)
        if not fresh:
            return
        # Not resent: WhatsApp refuses for reasons a resend does not change (463: this account
        # may not start the chat; 479: the customer's session is stale), and a new ref for
        # the same text would be refused again, or could reach the customer twice.
        self._metrics.errors.labels("bridge_send_rejected").inc()
        log.warning("tenant %s: WhatsApp refused reply %s (ref %s) after accepting it: %s; not resent",
                    slug, frame.message_id, frame.ref, frame.error or "no error given")
        self._alert(Alert(slug, AlertKind.SEND_FAILED, {"chat": frame.chat, "error": frame.error}))
