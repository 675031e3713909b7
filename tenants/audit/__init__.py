"""The audit log: who did what to which tenant, and when. The entry, the log's protocol and
its two back-ends (MongoDB and the embedded SQLite store); `open_audit_log` picks the one
for the store in use."""

from __future__ import annotations

from typing import Any

from core.clock import Clock
from core.sqlite import Database
from tenants.audit.model import RETENTION, AuditEntry, AuditLog
from tenants.audit.mongo import MongoAuditLog
from tenants.audit.sqlite import SqliteAuditLog

__all__ = ["RETENTION", "AuditEntry", "AuditLog", "open_audit_log"]


def open_audit_log(db: Any, clock: Clock) -> AuditLog:
    """The audit log of a store's database (`Store.db`)."""
    return SqliteAuditLog(db, clock) if isinstance(db, Database) else MongoAuditLog(db, clock)
