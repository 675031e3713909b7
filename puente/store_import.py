"""The one-time move of a former embedded store (mongoeco, DATA_DIR/puente.sqlite3) into
the SQLite store, on the first start that finds it.

Its migrations run first, so data of any earlier Puente arrives in today's shape; then
every collection goes into its tables in one transaction (all or nothing: a failed
import leaves the new store empty and is tried again at the next start), an `imports` row
records it, and the old file is renamed `puente.sqlite3.imported` (kept, not deleted).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from bot.qr_watchers import sqlite as qr_watchers
from core.migrations import migrate
from core.store import Store
from relay.chats import sqlite as chats
from relay.message_log import sqlite as message_log
from relay.message_media import sqlite as message_media
from relay.openai_errors import sqlite as openai_errors
from tenants.audit import sqlite as audit
from tenants.repository import sqlite as tenants

log = logging.getLogger("puente.store_import")

Importer = Callable[[sqlite3.Connection, list[dict[str, Any]]], int]
# Every collection of the former store, and the importer of the table(s) it becomes.
COLLECTIONS: list[tuple[str, Importer]] = [
    ("tenants", tenants.import_documents),
    ("audit", audit.import_documents),
    ("chats", chats.import_documents),
    ("message_log", message_log.import_documents),
    ("message_media", message_media.import_documents),
    ("openai_errors", openai_errors.import_documents),
    ("qr_watchers", qr_watchers.import_documents),
]
SOURCE = "mongoeco"


class FormerStoreImport:
    """A start-up step (after the tables exist): import the former embedded store once."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def start(self) -> None:
        await import_former_store(self._store)

    async def stop(self) -> None:
        return None


async def import_former_store(store: Store) -> int | None:
    """Import DATA_DIR's former embedded store into the SQLite store if not done yet;
    the number of documents imported, or None when there was nothing to do."""
    old_path = store.mongoeco_path
    if store.kind != "sqlite" or not old_path.exists():
        return None
    db = store.db
    if await db.write(_already_imported):
        return None
    started = time.monotonic()
    documents = await _read_former(store)
    imported = await db.write(_write_all, documents)
    old_path.rename(old_path.with_name(old_path.name + ".imported"))
    log.warning("imported %d record(s) of the former embedded store %s into %s in %.1f s; the old file is kept as "
                "%s.imported", imported, old_path, store.sqlite_path, time.monotonic() - started, old_path.name)
    return imported


async def _read_former(store: Store) -> dict[str, list[dict[str, Any]]]:
    former = Store(None, "puente", store.sqlite_path.parent, engine="mongoeco", own_process=False)
    await former.start()
    try:
        await migrate(former.db)  # whatever Puente wrote it, into today's shape first
        return {name: await former.db[name].find({}).to_list() for name, _ in COLLECTIONS}
    finally:
        await former.stop()


def _already_imported(conn: sqlite3.Connection) -> bool:
    conn.execute("CREATE TABLE IF NOT EXISTS imports (source TEXT PRIMARY KEY, at INTEGER NOT NULL, "
                 "records INTEGER NOT NULL)")
    return conn.execute("SELECT 1 FROM imports WHERE source = ?", (SOURCE,)).fetchone() is not None


def _write_all(conn: sqlite3.Connection, documents: dict[str, list[dict[str, Any]]]) -> int:
    imported = sum(importer(conn, documents[name]) for name, importer in COLLECTIONS)
    conn.execute("INSERT INTO imports (source, at, records) VALUES (?, ?, ?)", (SOURCE, int(time.time() * 1000),
                                                                                 imported))
    return imported
