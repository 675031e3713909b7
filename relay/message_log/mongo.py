"""The message log on MongoDB: one document per chat, for dedupe, pending turns, daily
counts and the chat's outbox (relay/outbox/mongo.py reads and writes its `outbox` field).

One document per chat, rather than one per message, keeps every write on the hot path an
update of a document that already exists. On the embedded store (mongoeco 4.11) writing a
document that does not exist yet costs a scan of the whole collection, so a
one-document-per-message log got slower with every message it kept (bench/README.md).
Media is kept apart (relay/message_media), only while its turn waits.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from core.clock import utc
from relay.message_log.model import (
    COUNTERS,
    FAILED_PER_CHAT,
    MAX_STORED_MEDIA,
    SEEN_PER_CHAT,
    STATS_DAYS,
    MessageStatus,
    PendingMessage,
    day_of,
)
from relay.message_media.model import StoredMedia
from relay.message_media.mongo import MongoMessageMedia


def log_key(tenant: str, chat: str) -> str:
    """The document id of a chat's log."""
    return f"{tenant}|{chat}"


class MongoMessageLog:
    """The message log on MongoDB, a document per (tenant, chat)."""

    COLLECTION = "message_log"
    INDEXES = [
        IndexModel([("tenant", ASCENDING)], name="tenant"),
        IndexModel([("last_at", ASCENDING)], name="last_at"),
        # The sweep for stranded messages reads only documents with an old pending entry.
        IndexModel([("pending.order", ASCENDING)], name="pending_order"),
    ]

    # Daily counts per tenant, a document per (tenant, day): the long-lived stats.
    DAYS_COLLECTION = "message_days"
    DAYS_INDEXES = [IndexModel([("day", ASCENDING)], name="day")]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]
        self._days = db[self.DAYS_COLLECTION]
        self._media = MongoMessageMedia(db)

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)
        await self._days.create_indexes(self.DAYS_INDEXES)
        await self._media.ensure_indexes()

    async def _count_up(self, tenant: str, day: str, field: str, by: int) -> None:
        await self._days.update_one({"_id": f"{tenant}|{day}"},
                                    {"$inc": {field: by}, "$setOnInsert": {"tenant": tenant, "day": day}},
                                    upsert=True)

    async def record(self, tenant: str, message: Any, *, customer: bool, now: datetime, owner: bool = False) -> bool:
        # A repeat is refused by the update's filter: its id is pushed only when absent.
        key, day = log_key(tenant, message.chat), day_of(now)
        update: dict[str, Any] = {
            "$push": {"seen": {"$each": [message.id], "$slice": -SEEN_PER_CHAT}},
            "$set": {"last_at": now},
            "$setOnInsert": {"tenant": tenant, "chat": message.chat},
        }
        entry: dict[str, Any] | None = None
        written_at = message.written_at(now)
        if owner:
            entry = {"id": message.id, "kind": message.kind, "text": message.text, "order": time.time_ns(),
                     "received_at": now, "at": written_at, "owner": True, "sender": message.sender}
            update["$push"]["pending"] = entry
        if customer:
            entry = {"id": message.id, "kind": message.kind, "text": message.text, "order": time.time_ns(),
                     "received_at": now, "at": written_at}
            media = message.media
            if media is not None and len(media.data_base64) <= MAX_STORED_MEDIA:
                # Stored first: a pending entry that names media always finds it.
                await self._media.put(tenant, message.id, StoredMedia(media.data_base64, media.mime), now)
                entry["media"] = True
            update["$push"]["pending"] = entry
        if await self._write_if_unseen(key, message.id, update):
            if customer:  # a second write: a crash between the two loses one count, never a message
                await self._count_up(tenant, day, "in", 1)
            return True
        if entry is not None and entry.get("media") and not await self._col.count_documents(
            {"_id": key, "pending.id": message.id}, limit=1
        ):
            await self._media.delete(tenant, [message.id])  # the repeat's media copy, for a settled turn
        return False

    async def _write_if_unseen(self, key: str, message_id: str, update: dict[str, Any]) -> bool:
        """Apply `update` to the chat's document unless it has seen `message_id`; whether it did."""
        unseen = {"_id": key, "seen": {"$ne": message_id}}
        if (await self._col.update_one(unseen, update)).matched_count:
            return True
        try:  # no such chat yet, or a repeat
            await self._col.update_one(unseen, update, upsert=True)
            return True
        except DuplicateKeyError:
            # The chat exists: it has seen this id, or another first message created it just now.
            return (await self._col.update_one(unseen, update)).matched_count == 1

    async def settle(
        self, tenant: str, chat: str, ids: list[str], status: MessageStatus, now: datetime,
        reply: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        update: dict[str, Any] = {"$pull": {"pending": {"id": {"$in": list(ids)}}}}
        push: dict[str, Any] = {}
        if status is MessageStatus.FAILED:
            push["failed"] = {"$each": list(ids), "$slice": -FAILED_PER_CHAT}
        if reply:
            push["outbox"] = {"$each": list(reply)}
            update["$setOnInsert"] = {"tenant": tenant, "chat": chat, "last_at": now}
        if push:
            update["$push"] = push
        before = await self._col.find_one_and_update(
            {"_id": log_key(tenant, chat)}, update, projection={"pending.id": 1, "pending.media": 1},
            return_document=ReturnDocument.BEFORE, upsert=bool(reply),
        )
        was_pending = [p for p in (before or {}).get("pending", []) if p["id"] in ids]
        answered_ids = {p["id"] for p in was_pending}
        if status is MessageStatus.ANSWERED and answered_ids:
            # Only what was pending counts: settling again (a recovery path) counts nothing.
            await self._count_up(tenant, day_of(now), "answered", len(answered_ids))
        await self._media.delete(tenant, [p["id"] for p in was_pending if p.get("media")])

    async def pending(self, tenant: str, before_order: int | None = None) -> list[PendingMessage]:
        return await self._pending_in({"tenant": tenant, "pending.0": {"$exists": True}}, before_order)

    async def stranded(self, before_order: int) -> list[PendingMessage]:
        return await self._pending_in({"pending.order": {"$lt": before_order}}, before_order)

    async def still_pending(self, tenant: str, chat: str, ids: list[str]) -> set[str]:
        doc = await self._col.find_one({"_id": log_key(tenant, chat)}, {"pending.id": 1})
        wanted = set(ids)
        return {p["id"] for p in (doc or {}).get("pending", []) if p["id"] in wanted}

    async def _pending_in(self, query: dict[str, Any], before_order: int | None) -> list[PendingMessage]:
        found: dict[tuple[str, str], PendingMessage] = {}
        async for doc in self._col.find(query):
            tenant = doc["tenant"]
            for entry in sorted(doc["pending"], key=lambda p: p["order"]):
                if before_order is not None and entry["order"] >= before_order:
                    continue
                media = await self._media.get(tenant, entry["id"]) if entry.get("media") else None
                pending = PendingMessage(
                    tenant=tenant, chat=doc["chat"], id=entry["id"], kind=entry.get("kind", "text"),
                    text=entry.get("text"), media_base64=media.data_base64 if media else None,
                    media_mime=media.mime if media else None, order=entry["order"],
                    owner=entry.get("owner", False), sender=entry.get("sender"),
                    at=utc(entry["at"]) if isinstance(entry.get("at"), datetime) else None,
                )
                known = found.get((tenant, entry["id"]))
                if known is None or pending.order < known.order:  # one id in two chats: the older
                    found[(tenant, entry["id"])] = pending
        return sorted(found.values(), key=lambda p: p.order)

    async def pending_count(self, tenant: str | None = None) -> int:
        query: dict[str, Any] = {"pending.0": {"$exists": True}}
        if tenant is not None:
            query["tenant"] = tenant
        return sum([len(doc["pending"]) async for doc in self._col.find(query, {"pending.id": 1})])

    async def recorded(self, tenant: str, ids: list[str]) -> set[str]:
        wanted = set(ids)
        return {i async for doc in self._col.find({"tenant": tenant}, {"seen": 1}) for i in doc.get("seen", [])
                if i in wanted}

    async def failed_ids(self, tenant: str) -> set[str]:
        return {i async for doc in self._col.find({"tenant": tenant}, {"failed": 1}) for i in doc.get("failed", [])}

    async def count(self, field: str, days: list[str], tenant: str | None = None) -> int:
        if field not in COUNTERS:
            raise ValueError(f"unknown counter {field!r}")
        if not days:
            return 0  # (an empty $in is refused by mongoeco)
        query: dict[str, Any] = {"day": {"$in": sorted(set(days))}}
        if tenant is not None:
            query["tenant"] = tenant
        return sum([int(doc.get(field, 0)) async for doc in self._days.find(query, {field: 1})])

    async def forget_old(self, now: datetime, days: int = 7) -> int:
        cutoff = now - timedelta(days=days)
        await self._days.delete_many({"day": {"$lt": day_of(now - timedelta(days=STATS_DAYS))}})
        removed = (await self._col.delete_many(
            {"last_at": {"$lt": cutoff}, "pending.0": {"$exists": False}, "outbox.0": {"$exists": False}}
        )).deleted_count
        await self._media.forget_old(cutoff)
        return removed

    async def delete_tenant(self, tenant: str) -> int:
        await self._media.delete_tenant(tenant)
        await self._days.delete_many({"tenant": tenant})
        return (await self._col.delete_many({"tenant": tenant})).deleted_count
