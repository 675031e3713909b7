"""The OpenAI error counts on MongoDB: the `openai_errors` collection, one document per
tenant and day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from relay.message_log import day_of
from relay.openai_errors.model import KEEP_DAYS


class MongoOpenAIErrors:
    """One counter per tenant and day, with its kinds: `{count, kinds: {kind: n}}`."""

    COLLECTION = "openai_errors"
    INDEXES = [IndexModel([("day", ASCENDING)], name="day")]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)

    async def record(self, tenant: str, kind: str, now: datetime) -> None:
        day = day_of(now)
        await self._col.update_one(
            {"_id": f"{tenant}|{day}"},
            {"$inc": {"count": 1, f"kinds.{kind}": 1}, "$setOnInsert": {"tenant": tenant, "day": day}},
            upsert=True,
        )

    async def count(self, days: list[str], tenant: str | None = None) -> int:
        if not days:  # mongoeco fails on an empty `$in`
            return 0
        query: dict[str, Any] = {"day": {"$in": days}}
        if tenant is not None:
            query["tenant"] = tenant
        total = 0
        async for doc in self._col.find(query):
            total += int(doc.get("count", 0))
        return total

    async def forget_old(self, now: datetime, days: int = KEEP_DAYS) -> int:
        result = await self._col.delete_many({"day": {"$lt": day_of(now - timedelta(days=days))}})
        return result.deleted_count
