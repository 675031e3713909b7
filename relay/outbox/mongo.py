"""The outbox: replies written before they are sent, removed once the bridge confirms them.

Entries live in their chat's message-log document (field `outbox`), so a turn's reply is
queued in the same write that marks its messages answered (`MessageLog.settle`): after a
crash there is either a pending turn or a queued reply, never both. Each part has a `ref`
derived from the turn it answers, and the bridge is idempotent by ref. After a bridge
reconnects, everything still queued is resent in order with the same refs.

The one exception to "one repository class per collection": MessageLog owns these
documents and their indexes, and this class reads and writes only their `outbox` field.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from relay.message_log import MessageLog, log_key


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
        """As stored in the chat's `outbox` array."""
        return {"ref": self.ref, "text": self.text, "order": self.order, "created_at": now}


class Outbox:
    """Replies not yet confirmed by the bridge, in their chats' message-log documents."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[MessageLog.COLLECTION]

    @staticmethod
    def prepare(tenant: str, chat: str, parts: list[tuple[str, str]]) -> list[OutgoingText]:
        """(ref, text) parts as outbox entries, in order, not stored yet."""
        base = time.time_ns()
        return [OutgoingText(ref, tenant, chat, text, base + i) for i, (ref, text) in enumerate(parts)]

    async def put(self, items: list[OutgoingText], now: datetime) -> None:
        """Queue texts that answer no message (notices); a turn's reply goes with `MessageLog.settle`."""
        if not items:
            return
        tenant, chat = items[0].tenant, items[0].chat
        await self._col.update_one(
            {"_id": log_key(tenant, chat)},
            {"$push": {"outbox": {"$each": [item.entry(now) for item in items]}}, "$set": {"last_at": now},
             "$setOnInsert": {"tenant": tenant, "chat": chat}},
            upsert=True,
        )

    async def done(self, item: OutgoingText) -> None:
        """The bridge confirmed this send (or refused it for good)."""
        await self._col.update_one({"_id": log_key(item.tenant, item.chat)}, {"$pull": {"outbox": {"ref": item.ref}}})

    async def waiting(self, tenant: str) -> list[OutgoingText]:
        """The tenant's unconfirmed texts, oldest first."""
        found: dict[str, OutgoingText] = {}
        async for doc in self._col.find({"tenant": tenant, "outbox.0": {"$exists": True}}, {"chat": 1, "outbox": 1}):
            for entry in doc["outbox"]:
                found.setdefault(entry["ref"], OutgoingText(entry["ref"], tenant, doc["chat"], entry["text"],
                                                            entry["order"]))
        return sorted(found.values(), key=lambda item: item.order)

    async def waiting_in(self, tenant: str, chat: str) -> list[OutgoingText]:
        """One chat's unconfirmed texts, oldest first."""
        doc = await self._col.find_one({"_id": log_key(tenant, chat)}, {"outbox": 1})
        found: dict[str, OutgoingText] = {}
        for e in (doc or {}).get("outbox", []):
            found.setdefault(e["ref"], OutgoingText(e["ref"], tenant, chat, e["text"], e["order"]))
        return sorted(found.values(), key=lambda item: item.order)

    async def tenants(self) -> list[str]:
        """Tenants with something queued."""
        return sorted(await self._col.distinct("tenant", {"outbox.0": {"$exists": True}}))
