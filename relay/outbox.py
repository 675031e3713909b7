"""The `outbox` collection: replies written before they are sent, removed once confirmed.

Each reply part has a `ref` derived from the turn it answers, so regenerating a turn
after a crash writes the same refs, and the bridge (idempotent by ref) sends each once.
After a bridge reconnects, everything still here is resent in order with the same ref.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase


def turn_ref(tenant: str, message_ids: list[str], part: int) -> str:
    """The send ref of part `part` of the reply to the turn made of `message_ids`."""
    digest = hashlib.sha256("\n".join([tenant, *message_ids]).encode()).hexdigest()[:24]
    return f"r-{digest}-{part}"


@dataclass(frozen=True, slots=True)
class OutgoingText:
    """One text waiting to be confirmed by the bridge."""

    ref: str
    tenant: str
    chat: str
    text: str
    order: int

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> OutgoingText:
        return cls(ref=doc["_id"], tenant=doc["tenant"], chat=doc["chat"], text=doc["text"], order=doc["order"])


class Outbox:
    """Replies not yet confirmed by the bridge, keyed by their ref."""

    COLLECTION = "outbox"
    INDEXES = [IndexModel([("tenant", ASCENDING), ("order", ASCENDING)], name="tenant_order")]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)

    async def put(
        self, tenant: str, chat: str, parts: list[tuple[str, str]], now: datetime, answers: list[str] = (),
    ) -> list[OutgoingText]:
        """Store (ref, text) parts unless a ref is already there; return them as stored.

        `answers` names the customer messages this reply answers, so that a restart between
        this write and marking them answered does not answer them a second time.
        """
        base = time.time_ns()
        items = [OutgoingText(ref, tenant, chat, text, base + i) for i, (ref, text) in enumerate(parts)]
        for item in items:
            doc = {**self._doc(item, now), "answers": list(answers)}
            await self._col.update_one({"_id": item.ref}, {"$setOnInsert": doc}, upsert=True)
        return items

    async def answered(self, tenant: str) -> dict[str, set[str]]:
        """Per chat, the ids of the customer messages that replies waiting here answer."""
        covered: dict[str, set[str]] = {}
        async for doc in self._col.find({"tenant": tenant}, {"chat": 1, "answers": 1}):
            covered.setdefault(doc["chat"], set()).update(doc.get("answers", []))
        return covered

    async def done(self, ref: str) -> None:
        """The bridge confirmed this send."""
        await self._col.delete_one({"_id": ref})

    async def waiting(self, tenant: str) -> list[OutgoingText]:
        """The tenant's unconfirmed texts, oldest first."""
        cursor = self._col.find({"tenant": tenant}).sort("order", ASCENDING)
        return [OutgoingText.from_doc(doc) async for doc in cursor]

    async def tenants(self) -> list[str]:
        return sorted(await self._col.distinct("tenant"))

    async def delete_tenant(self, tenant: str) -> int:
        return (await self._col.delete_many({"tenant": tenant})).deleted_count

    @staticmethod
    def _doc(item: OutgoingText, now: datetime) -> dict[str, Any]:
        return {"tenant": item.tenant, "chat": item.chat, "text": item.text, "order": item.order, "created_at": now}
