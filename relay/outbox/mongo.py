"""The outbox on MongoDB: entries live in their chat's message-log document (field
`outbox`), so that `MessageLog.settle` queues a turn's reply in the same write that marks
its messages answered.

The one exception to "one repository class per collection": MongoMessageLog owns these
documents and their indexes, and this class reads and writes only their `outbox` field.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from relay.message_log.mongo import MongoMessageLog, log_key
from relay.outbox.model import OutgoingText, in_order, prepare


class MongoOutbox:
    """Replies not yet confirmed by the bridge, in their chats' message-log documents."""

    prepare = staticmethod(prepare)

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[MongoMessageLog.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(MongoMessageLog.INDEXES)

    async def put(self, items: list[OutgoingText], now: datetime) -> None:
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
        await self._col.update_one({"_id": log_key(item.tenant, item.chat)}, {"$pull": {"outbox": {"ref": item.ref}}})

    async def waiting(self, tenant: str) -> list[OutgoingText]:
        query = {"tenant": tenant, "outbox.0": {"$exists": True}}
        return in_order([OutgoingText(e["ref"], tenant, doc["chat"], e["text"], e["order"])
                         async for doc in self._col.find(query, {"chat": 1, "outbox": 1}) for e in doc["outbox"]])

    async def waiting_in(self, tenant: str, chat: str) -> list[OutgoingText]:
        doc = await self._col.find_one({"_id": log_key(tenant, chat)}, {"outbox": 1})
        return in_order([OutgoingText(e["ref"], tenant, chat, e["text"], e["order"])
                         for e in (doc or {}).get("outbox", [])])

    async def tenants(self) -> list[str]:
        return sorted(await self._col.distinct("tenant", {"outbox.0": {"$exists": True}}))
