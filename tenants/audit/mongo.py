"""The `audit` collection: who did what to which tenant, and when. Never a secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from core.clock import Clock, utc


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin action."""

    actor: str
    action: str
    tenant: str
    at: datetime
    detail: dict[str, Any]

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> AuditEntry:
        return cls(doc["actor"], doc["action"], doc["tenant"], utc(doc["at"]), doc.get("detail", {}))

    def to_doc(self) -> dict[str, Any]:
        return {"actor": self.actor, "action": self.action, "tenant": self.tenant, "at": self.at, "detail": self.detail}


class AuditLog:
    """Appends and reads audit entries."""

    COLLECTION = "audit"
    INDEXES = [IndexModel([("tenant", 1), ("at", DESCENDING)], name="tenant_at")]

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
