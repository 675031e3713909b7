"""Media of pending messages on the embedded SQLite store: a row per (tenant, message id).

A rowid table, not WITHOUT ROWID: a row holds up to a few MB of base64, and SQLite keeps
large rows best in a rowid table, with the key in a separate index. The module's functions
take a connection so that the message log stores a message and its media in one
transaction.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from core.sqlite import Database, stamp
from relay.message_media.model import StoredMedia

SCHEMA = """
CREATE TABLE IF NOT EXISTS message_media (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    data_base64 TEXT NOT NULL,
    mime TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (tenant, id)
);
CREATE INDEX IF NOT EXISTS message_media_received ON message_media (received_at)
"""


def put(conn: sqlite3.Connection, tenant: str, message_id: str, media: StoredMedia, now: datetime) -> None:
    """Keep it; a repeated message id keeps the first copy."""
    conn.execute("INSERT OR IGNORE INTO message_media (tenant, id, data_base64, mime, received_at) "
                 "VALUES (?, ?, ?, ?, ?)", (tenant, message_id, media.data_base64, media.mime, stamp(now)))


def delete(conn: sqlite3.Connection, tenant: str, message_ids: list[str]) -> None:
    conn.executemany("DELETE FROM message_media WHERE tenant = ? AND id = ?", [(tenant, i) for i in message_ids])


def forget_old(conn: sqlite3.Connection, cutoff: datetime) -> int:
    return conn.execute("DELETE FROM message_media WHERE received_at < ?", (stamp(cutoff),)).rowcount


def delete_tenant(conn: sqlite3.Connection, tenant: str) -> int:
    return conn.execute("DELETE FROM message_media WHERE tenant = ?", (tenant,)).rowcount


def import_documents(conn: sqlite3.Connection, docs: list[dict]) -> int:
    """Pending media as the MongoDB back-end stores it (`_id` is "tenant|message id")."""
    for doc in docs:
        message_id = doc["_id"].split("|", 1)[1]
        put(conn, doc["tenant"], message_id, StoredMedia(doc["data_base64"], doc["mime"]), doc["received_at"])
    return len(docs)


class SqliteMessageMedia:
    """Media of pending messages on SQLite; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def put(self, tenant: str, message_id: str, media: StoredMedia, now: datetime) -> None:
        await self._db.write(put, tenant, message_id, media, now)

    async def get(self, tenant: str, message_id: str) -> StoredMedia | None:
        def read(conn: sqlite3.Connection) -> StoredMedia | None:
            row = conn.execute("SELECT data_base64, mime FROM message_media WHERE tenant = ? AND id = ?",
                               (tenant, message_id)).fetchone()
            return StoredMedia(*row) if row else None
        return await self._db.read(read)

    async def delete(self, tenant: str, message_ids: list[str]) -> None:
        if message_ids:
            await self._db.write(delete, tenant, list(message_ids))

    async def forget_old(self, cutoff: datetime) -> int:
        return await self._db.write(forget_old, cutoff)

    async def delete_tenant(self, tenant: str) -> int:
        return await self._db.write(delete_tenant, tenant)
