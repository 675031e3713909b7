"""The message log on the embedded SQLite store.

Tables, each keyed by what it is looked up by:
- `message_chats`: a row per (tenant, chat) the log knows: when it was last written to
  (`last_at`, for forgetting quiet chats), the sequence numbers of its seen and failed ids,
  and the latest day it counted a message on (a chat goes only once its counts are gone).
- `message_seen`: the chat's last SEEN_PER_CHAT ids, numbered per chat (`seq`); a unique
  index on the id answers "seen before?" in one lookup, the oldest goes by `seq`.
- `message_pending`: unsettled messages with their text until settled; indexed by `ord`
  for the sweep of stranded ones across all tenants.
- `message_failed`: the chat's last FAILED_PER_CHAT failed ids, numbered like the seen ones.
- `message_days`: customer messages and answers per tenant and UTC day, the stats.
- `outbox`: replies not confirmed by the bridge (relay/outbox/sqlite.py), here because
  `settle` queues a turn's reply in the transaction that ends its pending messages.

Recording a message in a known chat or settling a turn is a handful of primary-key or
unique-index statements in one transaction: O(log n), whatever the log holds. They, and
the per-message lookups, are the store's point operations (core/sqlite.py: run on the
event loop while the store thread is idle); lists and sweeps run on the store thread.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from core.sqlite import Database, moment, stamp
from relay.message_log.model import (
    COUNTERS,
    FAILED_PER_CHAT,
    MAX_STORED_MEDIA,
    SEEN_PER_CHAT,
    STATS_DAYS,
    MessageStatus,
    PendingMessage,
    day_of,
)
from relay.message_media import sqlite as media_store
from relay.message_media.model import StoredMedia

SCHEMA = """
CREATE TABLE IF NOT EXISTS message_chats (
    tenant TEXT NOT NULL,
    chat TEXT NOT NULL,
    last_at INTEGER NOT NULL,
    seen_seq INTEGER NOT NULL DEFAULT 0,
    failed_seq INTEGER NOT NULL DEFAULT 0,
    counted_day TEXT,
    PRIMARY KEY (tenant, chat)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS message_chats_last_at ON message_chats (last_at);
CREATE TABLE IF NOT EXISTS message_seen (
    tenant TEXT NOT NULL,
    chat TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant, chat, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS message_seen_id ON message_seen (tenant, chat, id);
CREATE TABLE IF NOT EXISTS message_pending (
    tenant TEXT NOT NULL,
    chat TEXT NOT NULL,
    id TEXT NOT NULL,
    ord INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT,
    received_at INTEGER NOT NULL,
    at INTEGER,
    owner INTEGER NOT NULL DEFAULT 0,
    sender TEXT,
    media INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, chat, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS message_pending_ord ON message_pending (ord);
CREATE TABLE IF NOT EXISTS message_failed (
    tenant TEXT NOT NULL,
    chat TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tenant, chat, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_days (
    tenant TEXT NOT NULL,
    day TEXT NOT NULL,
    incoming INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS message_days_day ON message_days (day);
CREATE TABLE IF NOT EXISTS outbox (
    tenant TEXT NOT NULL,
    chat TEXT NOT NULL,
    ref TEXT NOT NULL,
    text TEXT NOT NULL,
    ord INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, chat, ref)
) WITHOUT ROWID
"""

# The stored column of each counter (`in` is an SQL keyword); only these are put in SQL.
_COUNTER_COLUMNS = dict(zip(COUNTERS, ("incoming", "answered"), strict=True))

# A later day wins; NULL when neither is set. Days are YYYY-MM-DD, so text order is time order.
_LATER_DAY = "nullif(max(coalesce(counted_day, ''), coalesce(?, '')), '')"

_PENDING = ("SELECT p.tenant, p.chat, p.id, p.kind, p.text, m.data_base64, m.mime, p.ord, p.owner, p.sender, p.at "
            "FROM message_pending p LEFT JOIN message_media m ON p.media AND m.tenant = p.tenant AND m.id = p.id ")


def _ids(ids: Iterable[str]) -> str:
    """A list of ids as one bound parameter, read back with json_each."""
    return json.dumps(list(ids))


def touch_chat(conn: sqlite3.Connection, tenant: str, chat: str, now: datetime, *, move: bool) -> None:
    """Make sure the chat has its row; `move` its last write to `now` when it exists already."""
    conflict = "UPDATE SET last_at = excluded.last_at" if move else "NOTHING"
    conn.execute(f"INSERT INTO message_chats (tenant, chat, last_at) VALUES (?, ?, ?) "
                 f"ON CONFLICT (tenant, chat) DO {conflict}", (tenant, chat, stamp(now)))


def queue(conn: sqlite3.Connection, tenant: str, chat: str, entries: Iterable[Mapping[str, Any]]) -> None:
    """Outbox entries (relay.outbox.OutgoingText.entry) into the chat's outbox; a ref queued
    already keeps its first text."""
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (tenant, chat, ref, text, ord, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(tenant, chat, e["ref"], e["text"], e["order"], stamp(e["created_at"])) for e in entries])


def _next_seq(conn: sqlite3.Connection, tenant: str, chat: str, column: str, by: int) -> int:
    (seq,), = conn.execute(f"UPDATE message_chats SET {column} = {column} + ? WHERE tenant = ? AND chat = ? "
                           f"RETURNING {column}", (by, tenant, chat)).fetchall()
    return seq


def _record(conn: sqlite3.Connection, tenant: str, message: Any, customer: bool, owner: bool, now: datetime,
            order: int) -> bool:
    chat = message.chat
    if conn.execute("SELECT 1 FROM message_seen WHERE tenant = ? AND chat = ? AND id = ?",
                    (tenant, chat, message.id)).fetchone():
        return False
    day = day_of(now) if customer else None
    (seq,), = conn.execute(
        "INSERT INTO message_chats (tenant, chat, last_at, seen_seq, counted_day) VALUES (?, ?, ?, 1, ?) "
        f"ON CONFLICT (tenant, chat) DO UPDATE SET last_at = excluded.last_at, seen_seq = seen_seq + 1, "
        f"counted_day = {_LATER_DAY} RETURNING seen_seq", (tenant, chat, stamp(now), day, day)).fetchall()
    conn.execute("INSERT INTO message_seen (tenant, chat, seq, id) VALUES (?, ?, ?, ?)", (tenant, chat, seq, message.id))
    conn.execute("DELETE FROM message_seen WHERE tenant = ? AND chat = ? AND seq <= ?",
                 (tenant, chat, seq - SEEN_PER_CHAT))
    if customer or owner:
        media = message.media if customer else None
        stored = media is not None and len(media.data_base64) <= MAX_STORED_MEDIA
        if stored:
            media_store.put(conn, tenant, message.id, StoredMedia(media.data_base64, media.mime), now)
        conn.execute(
            "INSERT OR IGNORE INTO message_pending (tenant, chat, id, ord, kind, text, received_at, at, owner, "
            "sender, media) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (tenant, chat, message.id, order, message.kind, message.text, stamp(now),
             stamp(message.written_at(now)), int(not customer), None if customer else message.sender, int(stored)))
    if customer:
        conn.execute("INSERT INTO message_days (tenant, day, incoming) VALUES (?, ?, 1) "
                     "ON CONFLICT (tenant, day) DO UPDATE SET incoming = incoming + 1", (tenant, day))
    return True


def _settle(conn: sqlite3.Connection, tenant: str, chat: str, ids: list[str], status: MessageStatus,
            now: datetime, reply: Sequence[Mapping[str, Any]]) -> None:
    was_pending = conn.execute(
        "DELETE FROM message_pending WHERE tenant = ? AND chat = ? AND id IN (SELECT value FROM json_each(?)) "
        "RETURNING id, media", (tenant, chat, _ids(ids))).fetchall()
    media_store.delete(conn, tenant, [mid for mid, media in was_pending if media])
    if reply:
        touch_chat(conn, tenant, chat, now, move=False)
        queue(conn, tenant, chat, reply)
    elif not conn.execute("SELECT 1 FROM message_chats WHERE tenant = ? AND chat = ?", (tenant, chat)).fetchone():
        return  # nothing known of this chat: nothing to count or list
    if status is MessageStatus.ANSWERED:
        day = day_of(now)
        conn.execute(f"UPDATE message_chats SET counted_day = {_LATER_DAY} WHERE tenant = ? AND chat = ?",
                     (day, tenant, chat))
        if was_pending:
            conn.execute("INSERT INTO message_days (tenant, day, answered) VALUES (?, ?, ?) "
                         "ON CONFLICT (tenant, day) DO UPDATE SET answered = answered + excluded.answered",
                         (tenant, day, len(was_pending)))
    if status is MessageStatus.FAILED and ids:
        last = _next_seq(conn, tenant, chat, "failed_seq", len(ids))
        first = last - len(ids) + 1
        conn.executemany("INSERT INTO message_failed (tenant, chat, seq, id) VALUES (?, ?, ?, ?)",
                         [(tenant, chat, first + n, mid) for n, mid in enumerate(ids)])
        conn.execute("DELETE FROM message_failed WHERE tenant = ? AND chat = ? AND seq <= ?",
                     (tenant, chat, last - FAILED_PER_CHAT))


def _pending(rows: Iterable[tuple]) -> list[PendingMessage]:
    """Rows of _PENDING, oldest first, as PendingMessages; one per (tenant, id), the oldest."""
    found: dict[tuple[str, str], PendingMessage] = {}
    for tenant, chat, mid, kind, text, data, mime, order, owner, sender, at in rows:
        found.setdefault((tenant, mid), PendingMessage(
            tenant=tenant, chat=chat, id=mid, kind=kind, text=text, media_base64=data, media_mime=mime,
            order=order, owner=bool(owner), sender=sender, at=moment(at)))
    return list(found.values())


def _forget_old(conn: sqlite3.Connection, now: datetime, days: int) -> int:
    cutoff = now - timedelta(days=days)
    conn.execute("DELETE FROM message_days WHERE day < ?", (day_of(now - timedelta(days=STATS_DAYS)),))
    quiet = conn.execute(
        "SELECT tenant, chat FROM message_chats c WHERE last_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM message_pending p WHERE p.tenant = c.tenant AND p.chat = c.chat) "
        "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.tenant = c.tenant AND o.chat = c.chat)",
        (stamp(cutoff),)).fetchall()
    for table in ("message_seen", "message_failed", "message_chats"):
        conn.executemany(f"DELETE FROM {table} WHERE tenant = ? AND chat = ?", quiet)
    media_store.forget_old(conn, cutoff)
    return len(quiet)


def _delete_tenant(conn: sqlite3.Connection, tenant: str) -> int:
    media_store.delete_tenant(conn, tenant)
    for table in ("message_seen", "message_pending", "message_failed", "message_days", "outbox"):
        conn.execute(f"DELETE FROM {table} WHERE tenant = ?", (tenant,))
    return conn.execute("DELETE FROM message_chats WHERE tenant = ?", (tenant,)).rowcount


def import_documents(conn: sqlite3.Connection, docs: list[dict[str, Any]]) -> int:
    """The message log as the MongoDB back-end stores it: a document per chat with its seen
    and failed ids, pending entries, daily counters (summed per tenant) and outbox."""
    for doc in docs:
        tenant, chat = doc["tenant"], doc["chat"]
        seen, failed = doc.get("seen") or [], doc.get("failed") or []
        days = doc.get("days") or {}
        conn.execute("INSERT OR REPLACE INTO message_chats (tenant, chat, last_at, seen_seq, failed_seq, counted_day) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (tenant, chat, stamp(doc.get("last_at")) or 0, len(seen), len(failed),
                                                   max(days) if days else None))
        kept = list(dict.fromkeys(reversed(seen)))[::-1][-SEEN_PER_CHAT:]  # a repeated id once, at its last place
        conn.executemany("INSERT OR IGNORE INTO message_seen (tenant, chat, seq, id) VALUES (?, ?, ?, ?)",
                         [(tenant, chat, len(seen) - len(kept) + n + 1, mid) for n, mid in enumerate(kept)])
        conn.executemany("INSERT OR IGNORE INTO message_failed (tenant, chat, seq, id) VALUES (?, ?, ?, ?)",
                         [(tenant, chat, n + 1, mid) for n, mid in enumerate(failed[-FAILED_PER_CHAT:])])
        conn.executemany(
            "INSERT OR IGNORE INTO message_pending (tenant, chat, id, ord, kind, text, received_at, at, owner, sender, "
            "media) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(tenant, chat, p["id"], p["order"], p.get("kind", "text"), p.get("text"), stamp(p.get("received_at")) or 0,
              stamp(p.get("at")), int(bool(p.get("owner"))), p.get("sender"), int(bool(p.get("media"))))
             for p in doc.get("pending") or []])
        conn.executemany(
            "INSERT INTO message_days (tenant, day, incoming, answered) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, day) "
            "DO UPDATE SET incoming = incoming + excluded.incoming, answered = answered + excluded.answered",
            [(tenant, day, int(c.get("in", 0)), int(c.get("answered", 0))) for day, c in days.items()])
        queue(conn, tenant, chat, doc.get("outbox") or [])
    return len(docs)


class SqliteMessageLog:
    """The message log on SQLite; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)
        await self._db.script(media_store.SCHEMA)

    async def record(self, tenant: str, message: Any, *, customer: bool, now: datetime, owner: bool = False) -> bool:
        # A message carrying media (up to MAX_STORED_MEDIA of it) is no point operation.
        write = self._db.write if message.media is not None else self._db.write_point
        return await write(_record, tenant, message, customer, owner, now, time.time_ns())

    async def settle(
        self, tenant: str, chat: str, ids: list[str], status: MessageStatus, now: datetime,
        reply: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        await self._db.write_point(_settle, tenant, chat, list(ids), status, now, list(reply))

    async def pending(self, tenant: str, before_order: int | None = None) -> list[PendingMessage]:
        if before_order is None:
            return await self._read_pending(_PENDING + "WHERE p.tenant = ? ORDER BY p.ord", (tenant,))
        return await self._read_pending(_PENDING + "WHERE p.tenant = ? AND p.ord < ? ORDER BY p.ord",
                                        (tenant, before_order))

    async def stranded(self, before_order: int) -> list[PendingMessage]:
        return await self._read_pending(_PENDING + "WHERE p.ord < ? ORDER BY p.ord", (before_order,))

    async def still_pending(self, tenant: str, chat: str, ids: list[str]) -> set[str]:
        return await self._read_ids_point("SELECT id FROM message_pending WHERE tenant = ? AND chat = ? "
                                    "AND id IN (SELECT value FROM json_each(?))", (tenant, chat, _ids(ids)))

    async def pending_count(self, tenant: str | None = None) -> int:
        if tenant is None:
            return await self._read_one("SELECT count(*) FROM message_pending", ())
        return await self._read_one("SELECT count(*) FROM message_pending WHERE tenant = ?", (tenant,))

    async def recorded(self, tenant: str, ids: list[str]) -> set[str]:
        return await self._read_ids("SELECT id FROM message_seen WHERE tenant = ? "
                                    "AND id IN (SELECT value FROM json_each(?))", (tenant, _ids(ids)))

    async def failed_ids(self, tenant: str) -> set[str]:
        return await self._read_ids("SELECT id FROM message_failed WHERE tenant = ?", (tenant,))

    async def count(self, field: str, days: list[str], tenant: str | None = None) -> int:
        column = _COUNTER_COLUMNS.get(field)
        if column is None:
            raise ValueError(f"unknown counter {field!r}")
        sql = f"SELECT coalesce(sum({column}), 0) FROM message_days WHERE day IN (SELECT value FROM json_each(?))"
        if tenant is None:
            return await self._read_one(sql, (_ids(days),))
        return await self._read_one(sql + " AND tenant = ?", (_ids(days), tenant))

    async def forget_old(self, now: datetime, days: int = 7) -> int:
        return await self._db.write(_forget_old, now, days)

    async def delete_tenant(self, tenant: str) -> int:
        return await self._db.write(_delete_tenant, tenant)

    async def _read_ids_point(self, sql: str, params: tuple) -> set[str]:
        return await self._db.read_point(lambda conn: {row[0] for row in conn.execute(sql, params)})

    async def _read_pending(self, sql: str, params: tuple) -> list[PendingMessage]:
        return await self._db.read(lambda conn: _pending(conn.execute(sql, params)))

    async def _read_ids(self, sql: str, params: tuple) -> set[str]:
        return await self._db.read(lambda conn: {row[0] for row in conn.execute(sql, params)})

    async def _read_one(self, sql: str, params: tuple) -> int:
        return await self._db.read(lambda conn: conn.execute(sql, params).fetchone()[0])
