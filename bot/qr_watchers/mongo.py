"""The QR watchers on MongoDB: the `qr_watchers` collection, one document per (tenant,
admin chat)."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from bot.qr_watchers.model import Watcher


class MongoQrWatchers:
    """QR watchers on MongoDB."""

    COLLECTION = "qr_watchers"

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        """Nothing to create: the `_id` (tenant|chat) is the only key used."""

    async def all(self) -> dict[str, dict[int, Watcher]]:
        watchers: dict[str, dict[int, Watcher]] = {}
        async for doc in self._col.find({}):
            watchers.setdefault(doc["tenant"], {})[doc["chat_id"]] = Watcher(
                doc["chat_id"], doc.get("lang", "es"), doc.get("message_id"))
        return watchers

    async def save(self, tenant: str, watcher: Watcher) -> None:
        await self._col.update_one(
            {"_id": f"{tenant}|{watcher.chat_id}"},
            {"$set": {"tenant": tenant, "chat_id": watcher.chat_id, "lang": watcher.lang,
                      "message_id": watcher.message_id}},
            upsert=True,
        )

    async def drop(self, tenant: str, chat_id: int | None = None) -> None:
        if chat_id is None:
            await self._col.delete_many({"tenant": tenant})
        else:
            await self._col.delete_one({"_id": f"{tenant}|{chat_id}"})
