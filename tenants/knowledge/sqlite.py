"""A tenant's knowledge on the embedded SQLite store: its own vector store, its files (the
rowid is the order they were added), the stores attached to it and those found gone."""

from __future__ import annotations

import sqlite3

from core.sqlite import Database, moment, stamp
from tenants.knowledge.model import KnowledgeFile, KnowledgeRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS knowledge_stores (
    tenant TEXT PRIMARY KEY,
    vector_store_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS knowledge_files (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    file_id TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    added_at INTEGER NOT NULL,
    UNIQUE (tenant, file_id)
);
CREATE TABLE IF NOT EXISTS knowledge_attached (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    vector_store_id TEXT NOT NULL,
    UNIQUE (tenant, vector_store_id)
);
CREATE TABLE IF NOT EXISTS knowledge_gone (
    tenant TEXT NOT NULL,
    vector_store_id TEXT NOT NULL,
    PRIMARY KEY (tenant, vector_store_id)
) WITHOUT ROWID
"""
_TABLES = ("knowledge_stores", "knowledge_files", "knowledge_attached", "knowledge_gone")


def _file(row: tuple) -> KnowledgeFile:
    file_id, name, size, state, error, added_at = row
    return KnowledgeFile(file_id, name, size, state, error, moment(added_at))


class SqliteKnowledge:
    """Tenants' knowledge on SQLite; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def get(self, tenant: str) -> KnowledgeRecord:
        def read(conn: sqlite3.Connection) -> KnowledgeRecord:
            row = conn.execute("SELECT vector_store_id FROM knowledge_stores WHERE tenant = ?", (tenant,)).fetchone()
            files = [_file(r) for r in conn.execute(
                "SELECT file_id, name, size, state, error, added_at FROM knowledge_files "
                "WHERE tenant = ? ORDER BY id", (tenant,))]
            attached = [vs for (vs,) in conn.execute(
                "SELECT vector_store_id FROM knowledge_attached WHERE tenant = ? ORDER BY id", (tenant,))]
            gone = frozenset(vs for (vs,) in conn.execute(
                "SELECT vector_store_id FROM knowledge_gone WHERE tenant = ?", (tenant,)))
            return KnowledgeRecord(tenant, row[0] if row else None, files, attached, gone)
        return await self._db.read(read)

    async def set_store(self, tenant: str, vector_store_id: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO knowledge_stores (tenant, vector_store_id) VALUES (?, ?) "
                         "ON CONFLICT (tenant) DO UPDATE SET vector_store_id = excluded.vector_store_id",
                         (tenant, vector_store_id))
            conn.execute("DELETE FROM knowledge_files WHERE tenant = ?", (tenant,))
        await self._db.write(write)

    async def add_file(self, tenant: str, file: KnowledgeFile) -> None:
        row = (tenant, file.file_id, file.name, file.size, file.state, file.error, stamp(file.added_at))
        await self._db.write(lambda conn: conn.execute(
            "INSERT INTO knowledge_files (tenant, file_id, name, size, state, error, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, file_id) DO NOTHING", row))

    async def set_file_state(self, tenant: str, file_id: str, state: str, error: str | None) -> bool:
        return await self._db.write(lambda conn: conn.execute(
            "UPDATE knowledge_files SET state = ?, error = ? WHERE tenant = ? AND file_id = ?",
            (state, error, tenant, file_id)).rowcount > 0)

    async def remove_file(self, tenant: str, file_id: str) -> bool:
        return await self._db.write(lambda conn: conn.execute(
            "DELETE FROM knowledge_files WHERE tenant = ? AND file_id = ?", (tenant, file_id)).rowcount > 0)

    async def attach(self, tenant: str, vector_store_id: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM knowledge_gone WHERE tenant = ? AND vector_store_id = ?", (tenant, vector_store_id))
            conn.execute("INSERT INTO knowledge_attached (tenant, vector_store_id) VALUES (?, ?) "
                         "ON CONFLICT (tenant, vector_store_id) DO NOTHING", (tenant, vector_store_id))
        await self._db.write(write)

    async def detach(self, tenant: str, vector_store_id: str) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM knowledge_gone WHERE tenant = ? AND vector_store_id = ?", (tenant, vector_store_id))
            return conn.execute("DELETE FROM knowledge_attached WHERE tenant = ? AND vector_store_id = ?",
                                (tenant, vector_store_id)).rowcount > 0
        return await self._db.write(write)

    async def mark_gone(self, tenant: str, vector_store_id: str) -> bool:
        return await self._db.write(lambda conn: conn.execute(
            "INSERT INTO knowledge_gone (tenant, vector_store_id) VALUES (?, ?) "
            "ON CONFLICT (tenant, vector_store_id) DO NOTHING", (tenant, vector_store_id)).rowcount > 0)

    async def delete_tenant(self, tenant: str) -> int:
        def write(conn: sqlite3.Connection) -> int:
            # Only these fixed table names are ever put in SQL.
            return sum(conn.execute(f"DELETE FROM {table} WHERE tenant = ?", (tenant,)).rowcount for table in _TABLES)
        return await self._db.write(write)
