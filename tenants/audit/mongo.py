"""The audit log on MongoDB: the `audit` collection, one document per admin action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from core.clock import Clock
from tenants.audit.model import AuditEntry


class MongoAuditLog:
    """Appends and reads audit entries on MongoDB."""

    COLLECTION = "audit"
    INDEXES = [
        IndexModel([("tenant", ASCENDING), ("at", DESCENDING)], name="tenant_at"),
        IndexModel([("at", ASCENDING)], name="at"),  # the retention sweep
    ]

    def __init__(self, db: AsyncDatabase, clock: Clock) -> None:
        self._col = db[self.COLLECTION]
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)

    async def record(self, actor: str, action: str, tenant: str, **detail: Any) -> None:
        entry = AuditEntry(actor, action, tenant, self._clock.now(), detail)
        await self._col.insert_one(entry.to_doc())

    async def for_tenant(self, tenant: str, limit: int = 50) -> list[AuditEntry]:
        cursor = self._col.find({"tenant": tenant}).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [AuditEntry.from_doc(doc) async for doc in cursor]

    async def forget_older_than(self, before: datetime) -> int:
        return (await self._col.delete_many({"at": {"$lt": before}})).deleted_count
