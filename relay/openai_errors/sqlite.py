"""The OpenAI error counts on the embedded SQLite store: a row per tenant and day, and its
count per kind of error in a child table that goes with it."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from core.sqlite import Database
from relay.message_log import day_of
from relay.openai_errors.model import KEEP_DAYS

SCHEMA = """
CREATE TABLE IF NOT EXISTS openai_errors (
    tenant TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (tenant, day)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS openai_errors_day ON openai_errors (day);
CREATE TABLE IF NOT EXISTS openai_error_kinds (
    tenant TEXT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (tenant, day, kind),
    FOREIGN KEY (tenant, day) REFERENCES openai_errors (tenant, day) ON DELETE CASCADE
) WITHOUT ROWID
"""


def import_documents(conn: sqlite3.Connection, docs: list[dict]) -> int:
    """Error counts as the MongoDB back-end stores them (a document per tenant and day)."""
    conn.executemany("INSERT OR REPLACE INTO openai_errors (tenant, day, count) VALUES (?, ?, ?)",
                     [(d["tenant"], d["day"], int(d.get("count", 0))) for d in docs])
    conn.executemany("INSERT OR REPLACE INTO openai_error_kinds (tenant, day, kind, count) VALUES (?, ?, ?, ?)",
                     [(d["tenant"], d["day"], kind, int(n)) for d in docs for kind, n in (d.get("kinds") or {}).items()])
    return len(docs)


class SqliteOpenAIErrors:
    """OpenAI error counts on SQLite; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def record(self, tenant: str, kind: str, now: datetime) -> None:
        day = day_of(now)

        def record(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO openai_errors (tenant, day, count) VALUES (?, ?, 1) "
                         "ON CONFLICT (tenant, day) DO UPDATE SET count = count + 1", (tenant, day))
            conn.execute("INSERT INTO openai_error_kinds (tenant, day, kind, count) VALUES (?, ?, ?, 1) "
                         "ON CONFLICT (tenant, day, kind) DO UPDATE SET count = count + 1", (tenant, day, kind))
        await self._db.write(record)

    async def count(self, days: list[str], tenant: str | None = None) -> int:
        if not days:
            return 0
        marks = ", ".join("?" * len(days))  # one bound parameter per day
        sql, params = f"SELECT coalesce(sum(count), 0) FROM openai_errors WHERE day IN ({marks})", tuple(days)
        if tenant is not None:
            sql, params = sql + " AND tenant = ?", (*params, tenant)
        return await self._db.read(lambda conn: conn.execute(sql, params).fetchone()[0])

    async def forget_old(self, now: datetime, days: int = KEEP_DAYS) -> int:
        # rowcount counts the tenant-days; their kinds go with them (ON DELETE CASCADE).
        cutoff = day_of(now - timedelta(days=days))
        return await self._db.write(lambda conn: conn.execute(
            "DELETE FROM openai_errors WHERE day < ?", (cutoff,)).rowcount)
