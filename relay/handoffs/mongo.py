"""The handoff counts on MongoDB: the `handoff_days` collection, one document per tenant
and day, `{tenant, day, assistant: n, owner: n, new_customers: n}`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from relay.handoffs.model import KEEP_DAYS, HandoffBy
from relay.message_log import day_of

NEW_CUSTOMERS = "new_customers"


class MongoHandoffs:
    """One document per tenant and day, a counter per starter."""

    COLLECTION = "handoff_days"
    INDEXES = [IndexModel([("day", ASCENDING)], name="day")]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)

    async def record(self, tenant: str, by: HandoffBy, now: datetime) -> None:
        await self._count_up(tenant, HandoffBy(by).value, now)

    async def record_new_customer(self, tenant: str, now: datetime) -> None:
        await self._count_up(tenant, NEW_CUSTOMERS, now)

    async def _count_up(self, tenant: str, field: str, now: datetime) -> None:
        day = day_of(now)
        await self._col.update_one(
            {"_id": f"{tenant}|{day}"},
            {"$inc": {field: 1}, "$setOnInsert": {"tenant": tenant, "day": day}},
            upsert=True,
        )

    async def count(self, by: HandoffBy, days: list[str], tenant: str | None = None) -> int:
        return await self._sum(HandoffBy(by).value, days, tenant)

    async def new_customers(self, days: list[str], tenant: str | None = None) -> int:
        return await self._sum(NEW_CUSTOMERS, days, tenant)

    async def _sum(self, field: str, days: list[str], tenant: str | None) -> int:
        if not days:  # mongoeco fails on an empty `$in`
            return 0
        query: dict[str, Any] = {"day": {"$in": days}}
        if tenant is not None:
            query["tenant"] = tenant
        return sum([int(doc.get(field, 0)) async for doc in self._col.find(query)])

    async def forget_old(self, now: datetime, days: int = KEEP_DAYS) -> int:
        result = await self._col.delete_many({"day": {"$lt": day_of(now - timedelta(days=days))}})
        return result.deleted_count

    async def delete_tenant(self, tenant: str) -> int:
        return (await self._col.delete_many({"tenant": tenant})).deleted_count
