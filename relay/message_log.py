"""The `messages` collection: every WhatsApp message once, for dedupe, stats and recovery.

A message is recorded before it is acked (the `_id` makes a repeated id a duplicate key,
never a second record). Its text and media stay only until its turn is answered (or
dropped), so unanswered turns survive a restart and nothing lingers afterwards.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

# Media above this size is not stored: after a restart such a turn is answered from its caption.
MAX_STORED_MEDIA = 4 * 1024 * 1024


class MessageStatus(enum.StrEnum):
    """Where a recorded message stands."""

    PENDING = "pending"  # a customer turn not answered yet
    ANSWERED = "answered"
    HELD = "held"  # recorded, not answered (paused chat, suspended bot)
    FAILED = "failed"  # OpenAI failed for a transient reason; the fallback was sent
    IGNORED = "ignored"  # not for the bot: own messages, groups, status, commands


def day_of(moment: datetime) -> str:
    """The UTC day of a moment, as stored for per-day counts."""
    return moment.strftime("%Y-%m-%d")


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """A recorded customer message whose turn is not answered yet."""

    tenant: str
    chat: str
    id: str
    kind: str
    text: str | None
    media_base64: str | None
    media_mime: str | None
    order: int

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PendingMessage:
        return cls(
            tenant=doc["tenant"], chat=doc["chat"], id=doc["message_id"], kind=doc.get("kind", "text"),
            text=doc.get("text"), media_base64=doc.get("media_base64"), media_mime=doc.get("media_mime"),
            order=doc.get("order", 0),
        )


class MessageLog:
    """Records messages exactly once per (tenant, message id)."""

    COLLECTION = "messages"
    INDEXES = [
        IndexModel([("tenant", ASCENDING), ("status", ASCENDING), ("order", ASCENDING)], name="tenant_status"),
        IndexModel([("tenant", ASCENDING), ("day", ASCENDING)], name="tenant_day"),
        IndexModel([("day", ASCENDING)], name="day"),
        IndexModel([("tenant", ASCENDING), ("answered_day", ASCENDING)], name="tenant_answered_day"),
        IndexModel([("received_at", ASCENDING)], name="received_at"),
    ]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)

    async def record(self, tenant: str, message: Any, *, customer: bool, now: datetime) -> bool:
        """Store `message` (a relay.protocol.Message); False if this id was already recorded."""
        doc: dict[str, Any] = {
            "_id": f"{tenant}|{message.id}",
            "tenant": tenant,
            "chat": message.chat,
            "message_id": message.id,
            "kind": message.kind,
            "inbound": customer,
            "status": MessageStatus.PENDING.value if customer else MessageStatus.IGNORED.value,
            "received_at": now,
            "day": day_of(now),
            "order": time.time_ns(),
        }
        if customer:
            doc["text"] = message.text
            media = message.media
            if media is not None and len(media.data_base64) <= MAX_STORED_MEDIA:
                doc["media_base64"] = media.data_base64
                doc["media_mime"] = media.mime
        # An upsert that only inserts, rather than insert_one: the same outcome (a repeated id
        # changes nothing), and on the embedded store (mongoeco 4.11) insert_one re-reads the
        # whole collection to check the _id, so it slows down as the log grows (bench/README.md).
        key = doc.pop("_id")
        try:
            result = await self._col.update_one({"_id": key}, {"$setOnInsert": doc}, upsert=True)
        except DuplicateKeyError:  # a concurrent upsert of the same id won the race
            return False
        return result.upserted_id is not None

    async def settle(self, tenant: str, ids: list[str], status: MessageStatus, now: datetime) -> None:
        """Mark these messages answered/held/failed/ignored and drop their content."""
        changes: dict[str, Any] = {"status": status.value}
        if status is MessageStatus.ANSWERED:
            changes["answered_day"] = day_of(now)
        update = {"$set": changes, "$unset": {"text": "", "media_base64": "", "media_mime": ""}}
        if len(ids) == 1:
            # Most turns are one message; an _id equality is the embedded store's fast path
            # ($in is planned like any query there and costs a scan of the collection).
            await self._col.update_one({"_id": f"{tenant}|{ids[0]}"}, update)
            return
        await self._col.update_many({"_id": {"$in": [f"{tenant}|{i}" for i in ids]}}, update)

    async def pending(self, tenant: str, before_order: int | None = None) -> list[PendingMessage]:
        """The tenant's unanswered customer messages, oldest first."""
        query: dict[str, Any] = {"tenant": tenant, "status": MessageStatus.PENDING.value}
        if before_order is not None:
            query["order"] = {"$lt": before_order}
        cursor = self._col.find(query).sort("order", ASCENDING)
        return [PendingMessage.from_doc(doc) async for doc in cursor]

    async def forget_old(self, now: datetime, days: int = 7) -> int:
        """Remove records older than `days` (the dedupe window)."""
        result = await self._col.delete_many({"received_at": {"$lt": now - timedelta(days=days)}})
        return result.deleted_count

    async def strip_settled_content(self) -> int:
        """Drop any text or media left on messages that no longer wait for an answer."""
        result = await self._col.update_many(
            {"status": {"$ne": MessageStatus.PENDING.value}, "text": {"$exists": True}},
            {"$unset": {"text": "", "media_base64": "", "media_mime": ""}},
        )
        return result.modified_count

    async def count(self, query: dict[str, Any]) -> int:
        return await self._col.count_documents(query)

    async def delete_tenant(self, tenant: str) -> int:
        return (await self._col.delete_many({"tenant": tenant})).deleted_count
