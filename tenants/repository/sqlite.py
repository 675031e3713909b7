"""The tenant repository on the embedded SQLite store: a row per tenant holding
`Tenant.to_doc()` as JSON (one source of truth for the tenant's shape), beside the columns
its lookups use: the slug, the landing link's hash, `enabled`."""

from __future__ import annotations

import sqlite3
from typing import Any

from core.sqlite import Database, from_json, to_json
from tenants.errors import SlugTaken
from tenants.model import Tenant

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    slug TEXT PRIMARY KEY,
    landing_token_hash TEXT,
    enabled INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS tenants_landing_token_hash ON tenants (landing_token_hash)
    WHERE landing_token_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS tenants_enabled ON tenants (enabled, slug)
"""


def _load(text: str) -> dict[str, Any]:
    return from_json(text)


def _row(doc: dict[str, Any]) -> tuple:
    return doc["_id"], doc.get("landing_token_hash"), bool(doc.get("enabled", True)), to_json(doc)


def _set(doc: dict[str, Any], changes: dict[str, Any]) -> None:
    """MongoDB's `$set`: a dotted path sets a field inside a sub-document (created if missing)."""
    for path, value in changes.items():
        *parents, name = path.split(".")
        target = doc
        for parent in parents:
            target = target.setdefault(parent, {})
        target[name] = value


def _get(conn: sqlite3.Connection, slug: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT doc FROM tenants WHERE slug = ?", (slug,)).fetchone()
    return _load(row[0]) if row else None


def import_documents(conn: sqlite3.Connection, docs: list[dict[str, Any]]) -> int:
    """Tenants as the MongoDB back-end stores them (the former embedded store's `tenants`)."""
    conn.executemany("INSERT OR REPLACE INTO tenants (slug, landing_token_hash, enabled, doc) VALUES (?, ?, ?, ?)",
                     [_row(doc) for doc in docs])
    return len(docs)


class SqliteTenants:
    """Stores tenants on SQLite; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def insert(self, tenant: Tenant) -> None:
        row = _row(tenant.to_doc())
        try:
            await self._db.write(lambda conn: conn.execute(
                "INSERT INTO tenants (slug, landing_token_hash, enabled, doc) VALUES (?, ?, ?, ?)", row))
        except sqlite3.IntegrityError:  # as on MongoDB: any duplicate key refuses the tenant
            raise SlugTaken(tenant.slug) from None

    async def get(self, slug: str) -> Tenant | None:
        doc = await self._db.read(_get, slug)
        return Tenant.from_doc(doc) if doc else None

    async def by_landing_token_hash(self, token_hash: str) -> Tenant | None:
        return await self._one("SELECT doc FROM tenants WHERE landing_token_hash = ?", (token_hash,))

    async def update(self, slug: str, changes: dict[str, Any]) -> Tenant | None:
        def update(conn: sqlite3.Connection) -> dict[str, Any] | None:
            doc = _get(conn, slug)
            if doc is None:
                return None
            _set(doc, changes)
            doc = _load(to_json(doc))  # read back as stored (whole milliseconds)
            _, token_hash, enabled, text = _row(doc)
            conn.execute("UPDATE tenants SET landing_token_hash = ?, enabled = ?, doc = ? WHERE slug = ?",
                         (token_hash, enabled, text, slug))
            return doc
        doc = await self._db.write(update)
        return Tenant.from_doc(doc) if doc else None

    async def delete(self, slug: str) -> bool:
        return await self._db.write(lambda conn: conn.execute(
            "DELETE FROM tenants WHERE slug = ?", (slug,)).rowcount) == 1

    async def page(self, skip: int, limit: int) -> list[Tenant]:
        return await self._many("SELECT doc FROM tenants ORDER BY slug LIMIT ? OFFSET ?", (limit, skip))

    async def all(self, *, enabled_only: bool = False) -> list[Tenant]:
        if enabled_only:
            return await self._many("SELECT doc FROM tenants WHERE enabled = 1 ORDER BY slug", ())
        return await self._many("SELECT doc FROM tenants ORDER BY slug", ())

    async def count(self) -> int:
        return await self._db.read(lambda conn: conn.execute("SELECT count(*) FROM tenants").fetchone()[0])

    async def _one(self, sql: str, params: tuple) -> Tenant | None:
        row = await self._db.read(lambda conn: conn.execute(sql, params).fetchone())
        return Tenant.from_doc(_load(row[0])) if row else None

    async def _many(self, sql: str, params: tuple) -> list[Tenant]:
        rows = await self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        return [Tenant.from_doc(_load(text)) for (text,) in rows]
