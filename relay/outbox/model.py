"""The outbox: replies written before they are sent, removed once the bridge confirms them.
What every back-end shares (refs, the queued text) and what an outbox must offer
(relay/outbox/mongo.py and sqlite.py implement it).

A turn's reply is queued in the same write that marks its messages answered
(`MessageLog.settle`): after a crash there is either a pending turn or a queued reply,
never both. Each part has a `ref` derived from the turn it answers, and the bridge is
idempotent by ref. After a bridge reconnects, everything still queued is resent in order
with the same refs.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


def _digest(tenant: str, message_ids: list[str]) -> str:
    return hashlib.sha256("\n".join([tenant, *message_ids]).encode()).hexdigest()[:24]


def turn_ref(tenant: str, message_ids: list[str], part: int) -> str:
    """The send ref of part `part` of the reply to the turn made of `message_ids`."""
    return f"r-{_digest(tenant, message_ids)}-{part}"


def command_ref(tenant: str, message_id: str) -> str:
    """The send ref of the confirmation of the owner's command in message `message_id`."""
    return f"c-{_digest(tenant, [message_id])}"


@dataclass(frozen=True, slots=True)
class OutgoingText:
    """One text waiting to be confirmed by the bridge."""

    ref: str
    tenant: str
    chat: str
    text: str
    order: int

    def entry(self, now: datetime) -> dict[str, Any]:
        """As handed to `MessageLog.settle` (and stored in a chat's `outbox` array on MongoDB)."""
        return {"ref": self.ref, "text": self.text, "order": self.order, "created_at": now}


def prepare(tenant: str, chat: str, parts: list[tuple[str, str]]) -> list[OutgoingText]:
    """(ref, text) parts as outbox entries, in order, not stored yet."""
    base = time.time_ns()
    return [OutgoingText(ref, tenant, chat, text, base + i) for i, (ref, text) in enumerate(parts)]


def in_order(items: list[OutgoingText]) -> list[OutgoingText]:
    """Oldest first, each ref once (the oldest copy of a ref queued twice)."""
    found: dict[str, OutgoingText] = {}
    for item in sorted(items, key=lambda item: item.order):
        found.setdefault(item.ref, item)
    return list(found.values())


class Outbox(Protocol):
    """Replies not yet confirmed by the bridge, by tenant and chat."""

    async def ensure_indexes(self) -> None: ...

    @staticmethod
    def prepare(tenant: str, chat: str, parts: list[tuple[str, str]]) -> list[OutgoingText]:
        """(ref, text) parts as outbox entries, in order, not stored yet."""
        ...

    async def put(self, items: list[OutgoingText], now: datetime) -> None:
        """Queue texts of one chat that answer no message (notices); a turn's reply goes
        with `MessageLog.settle`. Counts as activity of the chat (it is not forgotten)."""
        ...

    async def done(self, item: OutgoingText) -> None:
        """The bridge confirmed this send (or refused it for good)."""
        ...

    async def waiting(self, tenant: str) -> list[OutgoingText]:
        """The tenant's unconfirmed texts, oldest first."""
        ...

    async def waiting_in(self, tenant: str, chat: str) -> list[OutgoingText]:
        """One chat's unconfirmed texts, oldest first."""
        ...

    async def tenants(self) -> list[str]:
        """Tenants with something queued, sorted."""
        ...
