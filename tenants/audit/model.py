"""An audit entry, as every store back-end keeps it, and what an audit log must offer
(tenants/audit/mongo.py and tenants/audit/sqlite.py implement it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.clock import utc

# How long the cleanup keeps audit entries (it passes `now - RETENTION` to forget_older_than).
RETENTION = timedelta(days=365)


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


class AuditLog(Protocol):
    """Appends and reads audit entries: who did what to which tenant, and when. Never a secret."""

    async def ensure_indexes(self) -> None: ...

    async def record(self, actor: str, action: str, tenant: str, **detail: Any) -> None:
        """Append an entry stamped with the clock's now."""
        ...

    async def for_tenant(self, tenant: str, limit: int = 50) -> list[AuditEntry]:
        """The tenant's latest entries, newest first (entries of one moment: last recorded first)."""
        ...

    async def forget_older_than(self, before: datetime) -> int:
        """Delete the entries recorded before `before`, of every tenant; how many."""
        ...
