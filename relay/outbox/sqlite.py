"""The outbox on the embedded SQLite store: the `outbox` table, a row per (tenant, chat,
ref). The message log owns the table (relay/message_log/sqlite.py), so that its `settle`
queues a turn's reply in the transaction that ends the turn's pending messages."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from core.sqlite import Database
from relay.message_log.sqlite import SCHEMA, queue, touch_chat
from relay.outbox.model import OutgoingText, in_order, prepare


class SqliteOutbox:
    """Replies not yet confirmed by the bridge, on SQLite; each method is one transaction
    (putting and removing one chat's texts are point operations, core/sqlite.py)."""

    prepare = staticmethod(prepare)

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        await self._db.script(SCHEMA)

    async def put(self, items: list[OutgoingText], now: datetime) -> None:
        if not items:
            return
        tenant, chat = items[0].tenant, items[0].chat

        def put(conn: sqlite3.Connection) -> None:
            touch_chat(conn, tenant, chat, now, move=True)
            queue(conn, tenant, chat, [item.entry(now) for item in items])
        await self._db.write_point(put)

    async def done(self, item: OutgoingText) -> None:
        await self._db.write_point(lambda conn: conn.execute(
            "DELETE FROM outbox WHERE tenant = ? AND chat = ? AND ref = ?", (item.tenant, item.chat, item.ref)))

    async def waiting(self, tenant: str) -> list[OutgoingText]:
        return await self._texts("SELECT ref, tenant, chat, text, ord FROM outbox WHERE tenant = ?", (tenant,))

    async def waiting_in(self, tenant: str, chat: str) -> list[OutgoingText]:
        return await self._texts("SELECT ref, tenant, chat, text, ord FROM outbox WHERE tenant = ? AND chat = ?",
                                 (tenant, chat))

    async def tenants(self) -> list[str]:
        return await self._db.read(lambda conn: [row[0] for row in conn.execute(
            "SELECT DISTINCT tenant FROM outbox ORDER BY tenant")])

    async def _texts(self, sql: str, params: tuple) -> list[OutgoingText]:
        return await self._db.read(lambda conn: in_order([OutgoingText(*row) for row in conn.execute(sql, params)]))
