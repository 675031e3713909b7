"""The usage counts on the embedded SQLite store: a row per tenant, day and model."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.sqlite import Database
from relay.message_log import day_of
from relay.usage.model import COUNTERS, KEEP_DAYS, TokenUsage, UsageDay

SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_days (
    tenant TEXT NOT NULL,
    day TEXT NOT NULL,
    model TEXT NOT NULL,
    responses INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    voice_notes INTEGER NOT NULL DEFAULT 0,
    voice_seconds REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day, model)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_days_day ON usage_days (day)
"""
_COLUMNS = ", ".join(COUNTERS)


class SqliteUsage:
    """Usage counts on SQLite; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def add_response(self, tenant: str, model: str, usage: TokenUsage, now: datetime) -> None:
        # A point write (one row by key, once per turn): on the event loop when the store
        # thread is idle (core/sqlite.py).
        await self._db.write_point(lambda conn: conn.execute(
            "INSERT INTO usage_days (tenant, day, model, responses, input_tokens, cached_tokens, output_tokens) "
            "VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT (tenant, day, model) DO UPDATE SET "
            "responses = responses + 1, input_tokens = input_tokens + excluded.input_tokens, "
            "cached_tokens = cached_tokens + excluded.cached_tokens, "
            "output_tokens = output_tokens + excluded.output_tokens",
            (tenant, day_of(now), model, usage.input_tokens, usage.cached_tokens, usage.output_tokens)))

    async def add_voice_note(self, tenant: str, model: str, seconds: float, now: datetime) -> None:
        await self._db.write_point(lambda conn: conn.execute(
            "INSERT INTO usage_days (tenant, day, model, voice_notes, voice_seconds) VALUES (?, ?, ?, 1, ?) "
            "ON CONFLICT (tenant, day, model) DO UPDATE SET voice_notes = voice_notes + 1, "
            "voice_seconds = voice_seconds + excluded.voice_seconds",
            (tenant, day_of(now), model, float(seconds))))

    async def days(self, first: str, last: str, tenant: str | None = None) -> list[UsageDay]:
        query = f"SELECT tenant, day, model, {_COLUMNS} FROM usage_days WHERE day BETWEEN ? AND ?"
        params: tuple = (first, last)
        if tenant is not None:
            query, params = query + " AND tenant = ?", (*params, tenant)
        rows = await self._db.read(lambda conn: conn.execute(query + " ORDER BY tenant, day, model", params).fetchall())
        return [UsageDay(*row) for row in rows]

    async def forget_old(self, now: datetime, days: int = KEEP_DAYS) -> int:
        cutoff = day_of(now - timedelta(days=days))
        return await self._db.write(lambda conn: conn.execute(
            "DELETE FROM usage_days WHERE day < ?", (cutoff,)).rowcount)

    async def delete_tenant(self, tenant: str) -> int:
        return await self._db.write(lambda conn: conn.execute(
            "DELETE FROM usage_days WHERE tenant = ?", (tenant,)).rowcount)
