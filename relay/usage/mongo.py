"""The usage counts on MongoDB: the `usage_days` collection, one document per tenant, day
and model, `{tenant, day, model, responses, input_tokens, …}`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from relay.message_log import day_of
from relay.usage.model import COUNTERS, KEEP_DAYS, TokenUsage, UsageDay


class MongoUsage:
    """One document per tenant, day and model, a counter per field of UsageDay."""

    COLLECTION = "usage_days"
    INDEXES = [IndexModel([("day", ASCENDING)], name="day"),
               IndexModel([("tenant", ASCENDING), ("day", ASCENDING)], name="tenant_day")]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)

    async def add_response(self, tenant: str, model: str, usage: TokenUsage, now: datetime) -> None:
        await self._add(tenant, model, now, {"responses": 1, "input_tokens": usage.input_tokens,
                                             "cached_tokens": usage.cached_tokens,
                                             "output_tokens": usage.output_tokens})

    async def add_voice_note(self, tenant: str, model: str, seconds: float, now: datetime) -> None:
        await self._add(tenant, model, now, {"voice_notes": 1, "voice_seconds": float(seconds)})

    async def _add(self, tenant: str, model: str, now: datetime, counts: dict[str, Any]) -> None:
        day = day_of(now)
        await self._col.update_one(
            {"_id": f"{tenant}|{day}|{model}"},
            {"$inc": counts, "$setOnInsert": {"tenant": tenant, "day": day, "model": model}},
            upsert=True,
        )

    async def days(self, first: str, last: str, tenant: str | None = None) -> list[UsageDay]:
        query: dict[str, Any] = {"day": {"$gte": first, "$lte": last}}
        if tenant is not None:
            query["tenant"] = tenant
        rows = [_from_doc(doc) async for doc in self._col.find(query)]
        return sorted(rows, key=lambda row: (row.tenant, row.day, row.model))

    async def forget_old(self, now: datetime, days: int = KEEP_DAYS) -> int:
        result = await self._col.delete_many({"day": {"$lt": day_of(now - timedelta(days=days))}})
        return result.deleted_count

    async def delete_tenant(self, tenant: str) -> int:
        return (await self._col.delete_many({"tenant": tenant})).deleted_count


def _from_doc(doc: dict[str, Any]) -> UsageDay:
    counts = {name: doc.get(name, 0) for name in COUNTERS}
    counts = {name: float(value) if name == "voice_seconds" else int(value) for name, value in counts.items()}
    return UsageDay(doc["tenant"], doc["day"], doc["model"], **counts)
