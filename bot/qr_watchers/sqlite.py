"""The QR watchers on the embedded SQLite store: a row per (tenant, admin chat)."""

from __future__ import annotations

import sqlite3

from bot.qr_watchers.model import Watcher
from core.sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS qr_watchers (
    tenant TEXT NOT NULL,
    chat_id INTEGER NOT NULL,
    lang TEXT NOT NULL,
    message_id INTEGER,
    PRIMARY KEY (tenant, chat_id)
) WITHOUT ROWID
"""


def import_documents(conn: sqlite3.Connection, docs: list[dict]) -> int:
    """QR watchers as the MongoDB back-end stores them."""
    conn.executemany("INSERT OR REPLACE INTO qr_watchers (tenant, chat_id, lang, message_id) VALUES (?, ?, ?, ?)",
                     [(d["tenant"], d["chat_id"], d["lang"], d.get("message_id")) for d in docs])
    return len(docs)


class SqliteQrWatchers:
    """QR watchers on SQLite; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def all(self) -> dict[str, dict[int, Watcher]]:
        def read(conn: sqlite3.Connection) -> dict[str, dict[int, Watcher]]:
            watchers: dict[str, dict[int, Watcher]] = {}
            for tenant, chat_id, lang, message_id in conn.execute(
                    "SELECT tenant, chat_id, lang, message_id FROM qr_watchers"):
                watchers.setdefault(tenant, {})[chat_id] = Watcher(chat_id, lang, message_id)
            return watchers
        return await self._db.read(read)

    async def save(self, tenant: str, watcher: Watcher) -> None:
        await self._db.write(lambda conn: conn.execute(
            "INSERT INTO qr_watchers (tenant, chat_id, lang, message_id) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (tenant, chat_id) DO UPDATE SET lang = excluded.lang, message_id = excluded.message_id",
            (tenant, watcher.chat_id, watcher.lang, watcher.message_id)))

    async def drop(self, tenant: str, chat_id: int | None = None) -> None:
        if chat_id is None:
            await self._db.write(lambda conn: conn.execute("DELETE FROM qr_watchers WHERE tenant = ?", (tenant,)))
        else:
            await self._db.write(lambda conn: conn.execute(
                "DELETE FROM qr_watchers WHERE tenant = ? AND chat_id = ?", (tenant, chat_id)))
