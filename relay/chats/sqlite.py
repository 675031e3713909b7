"""The chats repository on the embedded SQLite store: a row per (tenant, chat), and the
conversations retired from a chat and waiting to be deleted at OpenAI."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from core.sqlite import Database, moment, stamp
from relay.chats.model import CLAIMS, Chat, PauseKind

SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    tenant TEXT NOT NULL,
    chat TEXT NOT NULL,
    name TEXT,
    phone TEXT,
    conversation_id TEXT,
    pause_kind TEXT,
    paused_at INTEGER,
    last_customer_at INTEGER,
    last_owner_at INTEGER,
    last_activity_at INTEGER,
    unsupported_at INTEGER,
    fallback_at INTEGER,
    media_lost_at INTEGER,
    away_at INTEGER,
    PRIMARY KEY (tenant, chat)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chats_paused ON chats (tenant, pause_kind) WHERE pause_kind IS NOT NULL;
CREATE INDEX IF NOT EXISTS chats_conversations ON chats (tenant, last_activity_at)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS chats_activity ON chats (last_activity_at);
CREATE TABLE IF NOT EXISTS retired_conversations (
    tenant TEXT NOT NULL,
    chat TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    PRIMARY KEY (tenant, chat, conversation_id)
) WITHOUT ROWID
"""

_COLUMNS = ("tenant, chat, name, phone, conversation_id, pause_kind, paused_at, last_customer_at, "
            "last_owner_at, last_activity_at")


def _chat(row: tuple | None) -> Chat | None:
    if row is None:
        return None
    tenant, chat, name, phone, conversation, kind, paused_at, customer_at, owner_at, activity_at = row
    return Chat(tenant=tenant, chat=chat, name=name, phone=phone, conversation_id=conversation,
                pause_kind=PauseKind(kind) if kind else None, paused_at=moment(paused_at),
                last_customer_at=moment(customer_at), last_owner_at=moment(owner_at),
                last_activity_at=moment(activity_at))


def _get(conn: sqlite3.Connection, tenant: str, chat: str) -> Chat | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM chats WHERE tenant = ? AND chat = ?", (tenant, chat)).fetchone()
    return _chat(row)


def _ensure(conn: sqlite3.Connection, tenant: str, chat: str) -> None:
    conn.execute("INSERT OR IGNORE INTO chats (tenant, chat) VALUES (?, ?)", (tenant, chat))


def import_documents(conn: sqlite3.Connection, docs: list[dict]) -> int:
    """Chats as the MongoDB back-end stores them (a document per chat, retired conversations
    in an array)."""
    columns = ("name", "phone", "conversation_id", "pause_kind", "paused_at", "last_customer_at", "last_owner_at",
               "last_activity_at", "unsupported_at", "fallback_at")
    moments = {"paused_at", "last_customer_at", "last_owner_at", "last_activity_at", "unsupported_at", "fallback_at"}
    rows = [(d["tenant"], d["chat"], *(stamp(d.get(c)) if c in moments else d.get(c) for c in columns)) for d in docs]
    conn.executemany(f"INSERT OR REPLACE INTO chats (tenant, chat, {', '.join(columns)}) "
                     f"VALUES ({', '.join('?' * (len(columns) + 2))})", rows)
    conn.executemany("INSERT OR IGNORE INTO retired_conversations VALUES (?, ?, ?)",
                     [(d["tenant"], d["chat"], c) for d in docs for c in d.get("retired_conversations") or []])
    return len(docs)


class SqliteChats:
    """Chats on SQLite; each method is one transaction. What a message or a turn reads or
    writes of its own chat is a point operation (core/sqlite.py); lists and sweeps are not."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def get(self, tenant: str, chat: str) -> Chat | None:
        return await self._db.read_point(_get, tenant, chat)

    async def touch_customer(
        self, tenant: str, chat: str, now: datetime, name: str | None, phone: str | None,
    ) -> tuple[Chat, datetime | None]:
        def touch(conn: sqlite3.Connection) -> tuple[Chat, datetime | None]:
            before = _get(conn, tenant, chat)
            conn.execute(
                "INSERT INTO chats (tenant, chat, name, phone, last_customer_at, last_activity_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, chat) DO UPDATE SET "
                "name = coalesce(excluded.name, name), phone = coalesce(excluded.phone, phone), "
                "last_customer_at = excluded.last_customer_at, last_activity_at = excluded.last_activity_at",
                (tenant, chat, name or None, phone or None, stamp(now), stamp(now)),
            )
            return _get(conn, tenant, chat), before.last_activity_at if before else None
        return await self._db.write_point(touch)

    async def touch_owner(self, tenant: str, chat: str, at: datetime, handoff: bool) -> Chat:
        def touch(conn: sqlite3.Connection) -> Chat:
            _ensure(conn, tenant, chat)
            conn.execute(
                "UPDATE chats SET last_owner_at = max(coalesce(last_owner_at, ?), ?), "
                "last_activity_at = max(coalesce(last_activity_at, ?), ?) WHERE tenant = ? AND chat = ?",
                (stamp(at), stamp(at), stamp(at), stamp(at), tenant, chat),
            )
            if handoff:
                conn.execute(
                    "UPDATE chats SET pause_kind = ?, paused_at = ? WHERE tenant = ? AND chat = ? "
                    "AND pause_kind IS NULL", (PauseKind.HANDOFF.value, stamp(at), tenant, chat))
            return _get(conn, tenant, chat)
        return await self._db.write(touch)

    async def start_handoff(self, tenant: str, chat: str, now: datetime) -> bool:
        def start(conn: sqlite3.Connection) -> bool:
            _ensure(conn, tenant, chat)
            return conn.execute(
                "UPDATE chats SET pause_kind = ?, paused_at = ?, last_owner_at = max(coalesce(last_owner_at, ?), ?) "
                "WHERE tenant = ? AND chat = ? AND pause_kind IS NULL",
                (PauseKind.HANDOFF.value, stamp(now), stamp(now), stamp(now), tenant, chat)).rowcount == 1
        return await self._db.write(start)

    async def set_conversation(self, tenant: str, chat: str, conversation_id: str) -> str:
        def store(conn: sqlite3.Connection) -> str:
            conn.execute("UPDATE chats SET conversation_id = ? WHERE tenant = ? AND chat = ? "
                         "AND conversation_id IS NULL", (conversation_id, tenant, chat))
            row = conn.execute("SELECT conversation_id FROM chats WHERE tenant = ? AND chat = ?",
                               (tenant, chat)).fetchone()
            return (row[0] if row else None) or conversation_id
        return await self._db.write_point(store)

    async def retire_conversation(self, tenant: str, chat: str, conversation_id: str) -> None:
        def retire(conn: sqlite3.Connection) -> None:
            cleared = conn.execute("UPDATE chats SET conversation_id = NULL WHERE tenant = ? AND chat = ? "
                                   "AND conversation_id = ?", (tenant, chat, conversation_id)).rowcount
            if cleared:
                conn.execute("INSERT OR IGNORE INTO retired_conversations VALUES (?, ?, ?)",
                             (tenant, chat, conversation_id))
        await self._db.write_point(retire)

    async def retired_conversations(self, tenant: str) -> list[tuple[str, str]]:
        def read(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            return [tuple(row) for row in conn.execute(
                "SELECT chat, conversation_id FROM retired_conversations WHERE tenant = ?", (tenant,))]
        return await self._db.read(read)

    async def drop_retired(self, tenant: str, chat: str, conversation_id: str) -> None:
        await self._db.write(lambda conn: conn.execute(
            "DELETE FROM retired_conversations WHERE tenant = ? AND chat = ? AND conversation_id = ?",
            (tenant, chat, conversation_id)))

    async def forget_conversation(self, tenant: str, chat: str, conversation_id: str) -> None:
        await self._db.write(lambda conn: conn.execute(
            "UPDATE chats SET conversation_id = NULL WHERE tenant = ? AND chat = ? AND conversation_id = ?",
            (tenant, chat, conversation_id)))

    async def pause(self, tenant: str, chat: str, kind: PauseKind, now: datetime) -> None:
        def pause(conn: sqlite3.Connection) -> None:
            _ensure(conn, tenant, chat)
            conn.execute("UPDATE chats SET pause_kind = ?, paused_at = ? WHERE tenant = ? AND chat = ?",
                         (kind.value, stamp(now), tenant, chat))
        await self._db.write(pause)

    async def resume(self, tenant: str, chat: str) -> bool:
        return await self._changed(
            "UPDATE chats SET pause_kind = NULL, paused_at = NULL WHERE tenant = ? AND chat = ? "
            "AND pause_kind IS NOT NULL", (tenant, chat)) == 1

    async def resume_expired_handoff(self, tenant: str, chat: str, owner_silent_since: datetime) -> bool:
        since = stamp(owner_silent_since)
        return await self._changed_point(
            "UPDATE chats SET pause_kind = NULL, paused_at = NULL WHERE tenant = ? AND chat = ? "
            "AND pause_kind = ? AND (last_owner_at <= ? OR (last_owner_at IS NULL "
            "AND (paused_at IS NULL OR paused_at <= ?)))",
            (tenant, chat, PauseKind.HANDOFF.value, since, since)) == 1

    async def pause_all(self, tenant: str, now: datetime) -> int:
        return await self._changed(
            "UPDATE chats SET pause_kind = ?, paused_at = ? WHERE tenant = ? "
            "AND (pause_kind IS NULL OR pause_kind != ?)",
            (PauseKind.ALL.value, stamp(now), tenant, PauseKind.MANUAL.value))

    async def resume_all(self, tenant: str) -> int:
        return await self._changed("UPDATE chats SET pause_kind = NULL, paused_at = NULL WHERE tenant = ? "
                                   "AND pause_kind IS NOT NULL", (tenant,))

    async def paused(self, tenant: str, limit: int = 50) -> list[Chat]:
        return await self._chats(f"SELECT {_COLUMNS} FROM chats WHERE tenant = ? AND pause_kind IS NOT NULL "
                                 "ORDER BY paused_at LIMIT ?", (tenant, limit))

    async def count(self, tenant: str, *, paused: bool = False) -> int:
        where = "tenant = ? AND pause_kind IS NOT NULL" if paused else "tenant = ?"
        return await self._db.read(lambda conn: conn.execute(f"SELECT count(*) FROM chats WHERE {where}",
                                                             (tenant,)).fetchone()[0])

    async def idle_conversations(self, tenant: str, before: datetime | None = None) -> list[Chat]:
        if before is None:
            return await self._chats(f"SELECT {_COLUMNS} FROM chats WHERE tenant = ? "
                                     "AND conversation_id IS NOT NULL", (tenant,))
        return await self._chats(f"SELECT {_COLUMNS} FROM chats WHERE tenant = ? AND conversation_id IS NOT NULL "
                                 "AND last_activity_at < ?", (tenant, stamp(before)))

    async def expired_handoffs(self, tenant: str, owner_silent_since: datetime) -> int:
        return await self._changed(
            "UPDATE chats SET pause_kind = NULL, paused_at = NULL WHERE tenant = ? AND pause_kind = ? "
            "AND last_owner_at < ?", (tenant, PauseKind.HANDOFF.value, stamp(owner_silent_since)))

    async def claim_once_per_hour(self, tenant: str, chat: str, field: str, now: datetime) -> bool:
        if field not in CLAIMS:  # a column name: only the known ones are ever put in SQL
            raise ValueError(f"unknown claim {field!r}")
        return await self._changed_point(
            f"UPDATE chats SET {field} = ? WHERE tenant = ? AND chat = ? AND ({field} IS NULL OR {field} <= ?)",
            (stamp(now), tenant, chat, stamp(now - timedelta(hours=1)))) == 1

    async def claim_since(self, tenant: str, chat: str, field: str, since: datetime, now: datetime) -> bool:
        if field not in CLAIMS:  # a column name: only the known ones are ever put in SQL
            raise ValueError(f"unknown claim {field!r}")
        return await self._changed(
            f"UPDATE chats SET {field} = ? WHERE tenant = ? AND chat = ? AND ({field} IS NULL OR {field} < ?)",
            (stamp(now), tenant, chat, stamp(since))) == 1

    async def forget_stale(self, before: datetime) -> int:
        return await self._changed(
            "DELETE FROM chats WHERE last_activity_at < ? AND conversation_id IS NULL AND pause_kind IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM retired_conversations r WHERE r.tenant = chats.tenant "
            "AND r.chat = chats.chat)", (stamp(before),))

    async def delete_tenant(self, tenant: str) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM retired_conversations WHERE tenant = ?", (tenant,))
            return conn.execute("DELETE FROM chats WHERE tenant = ?", (tenant,)).rowcount
        return await self._db.write(delete)

    async def _changed(self, sql: str, params: tuple) -> int:
        return await self._db.write(lambda conn: conn.execute(sql, params).rowcount)

    async def _changed_point(self, sql: str, params: tuple) -> int:
        return await self._db.write_point(lambda conn: conn.execute(sql, params).rowcount)

    async def _chats(self, sql: str, params: tuple) -> list[Chat]:
        return await self._db.read(lambda conn: [_chat(row) for row in conn.execute(sql, params)])
