"""The handoff and new-customer counts on the embedded SQLite store: a row per tenant and day
(`new_customers` added by migration 4 on tables made before it)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from core.sqlite import Database
from relay.handoffs.model import KEEP_DAYS, HandoffBy
from relay.message_log import day_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS handoff_days (
    tenant TEXT NOT NULL,
    day TEXT NOT NULL,
    assistant INTEGER NOT NULL DEFAULT 0,
    owner INTEGER NOT NULL DEFAULT 0,
    new_customers INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS handoff_days_day ON handoff_days (day)
"""
# HandoffBy -> its column; only these names are ever put in SQL.
_COLUMNS = {HandoffBy.ASSISTANT: "assistant", HandoffBy.OWNER: "owner"}
NEW_CUSTOMERS = "new_customers"


class SqliteHandoffs:
    """Handoff counts on SQLite; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def record(self, tenant: str, by: HandoffBy, now: datetime) -> None:
        await self._count_up(tenant, _COLUMNS[HandoffBy(by)], now)

    async def record_new_customer(self, tenant: str, now: datetime) -> None:
        await self._count_up(tenant, NEW_CUSTOMERS, now)

    async def _count_up(self, tenant: str, column: str, now: datetime) -> None:
        await self._db.write(lambda conn: conn.execute(
            f"INSERT INTO handoff_days (tenant, day, {column}) VALUES (?, ?, 1) "
            f"ON CONFLICT (tenant, day) DO UPDATE SET {column} = {column} + 1", (tenant, day_of(now))))

    async def count(self, by: HandoffBy, days: list[str], tenant: str | None = None) -> int:
        return await self._sum(_COLUMNS[HandoffBy(by)], days, tenant)

    async def new_customers(self, days: list[str], tenant: str | None = None) -> int:
        return await self._sum(NEW_CUSTOMERS, days, tenant)

    async def _sum(self, column: str, days: list[str], tenant: str | None) -> int:
        if not days:
            return 0
        marks = ", ".join("?" * len(days))  # one bound parameter per day
        sql = f"SELECT coalesce(sum({column}), 0) FROM handoff_days WHERE day IN ({marks})"
        params: tuple = tuple(days)
        if tenant is not None:
            sql, params = sql + " AND tenant = ?", (*params, tenant)

        def read(conn: sqlite3.Connection) -> int:
            return conn.execute(sql, params).fetchone()[0]
        return await self._db.read(read)

    async def forget_old(self, now: datetime, days: int = KEEP_DAYS) -> int:
        cutoff = day_of(now - timedelta(days=days))
        return await self._db.write(lambda conn: conn.execute(
            "DELETE FROM handoff_days WHERE day < ?", (cutoff,)).rowcount)

    async def delete_tenant(self, tenant: str) -> int:
        return await self._db.write(lambda conn: conn.execute(
            "DELETE FROM handoff_days WHERE tenant = ?", (tenant,)).rowcount)
