"""The audit log on the embedded SQLite store: a row per admin action, its detail as JSON."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from core.clock import Clock
from core.sqlite import Database, from_json, moment, stamp, to_json
from tenants.audit.model import AuditEntry

# The rowid is the order of recording: newest first among entries of one moment, as
# MongoDB's ObjectId orders them.
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    at INTEGER NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_tenant_at ON audit (tenant, at);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at)
"""


def _entry(row: tuple) -> AuditEntry:
    actor, action, tenant, at, detail = row
    return AuditEntry(actor, action, tenant, moment(at), from_json(detail))


def import_documents(conn: sqlite3.Connection, docs: list[dict[str, Any]]) -> int:
    """Audit entries as the MongoDB back-end stores them, in the order they were recorded."""
    conn.executemany("INSERT INTO audit (tenant, actor, action, at, detail) VALUES (?, ?, ?, ?, ?)",
                     [(d["tenant"], d["actor"], d["action"], stamp(d["at"]), to_json(d.get("detail") or {}))
                      for d in sorted(docs, key=lambda d: (d["at"], str(d.get("_id"))))])
    return len(docs)


class SqliteAuditLog:
    """Appends and reads audit entries on SQLite; each method is one transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def record(self, actor: str, action: str, tenant: str, **detail: Any) -> None:
        row = (tenant, actor, action, stamp(self._clock.now()), to_json(detail))
        await self._db.write(lambda conn: conn.execute(
            "INSERT INTO audit (tenant, actor, action, at, detail) VALUES (?, ?, ?, ?, ?)", row))

    async def for_tenant(self, tenant: str, limit: int = 50) -> list[AuditEntry]:
        def read(conn: sqlite3.Connection) -> list[AuditEntry]:
            return [_entry(row) for row in conn.execute(
                "SELECT actor, action, tenant, at, detail FROM audit WHERE tenant = ? "
                "ORDER BY at DESC, id DESC LIMIT ?", (tenant, limit))]
        return await self._db.read(read)

    async def forget_older_than(self, before: datetime) -> int:
        return await self._db.write(lambda conn: conn.execute(
            "DELETE FROM audit WHERE at < ?", (stamp(before),)).rowcount)
