"""The `message_media` collection: a pending customer message's audio or image, kept only
until its turn is settled, so that a restart can still answer it."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from relay.message_media.model import StoredMedia


class MongoMessageMedia:
    """Media of pending messages on MongoDB, one document per (tenant, message id)."""

    COLLECTION = "message_media"
    INDEXES = [IndexModel([("received_at", ASCENDING)], name="received_at")]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)

    async def put(self, tenant: str, message_id: str, media: StoredMedia, now: datetime) -> None:
        await self._col.update_one(
            {"_id": _key(tenant, message_id)},
            {"$setOnInsert": {"tenant": tenant, "data_base64": media.data_base64, "mime": media.mime,
                              "received_at": now}},
            upsert=True,
        )

    async def get(self, tenant: str, message_id: str) -> StoredMedia | None:
        doc = await self._col.find_one({"_id": _key(tenant, message_id)})
        return StoredMedia.from_doc(doc) if doc else None

    async def delete(self, tenant: str, message_ids: list[str]) -> None:
        if message_ids:
            await self._col.delete_many({"_id": {"$in": [_key(tenant, i) for i in message_ids]}})

    async def forget_old(self, cutoff: datetime) -> int:
        return (await self._col.delete_many({"received_at": {"$lt": cutoff}})).deleted_count

    async def delete_tenant(self, tenant: str) -> int:
        return (await self._col.delete_many({"tenant": tenant})).deleted_count


def _key(tenant: str, message_id: str) -> str:
    return f"{tenant}|{message_id}"
