"""Numbered, idempotent migrations with a stored schema version, one list per back-end.

Indexes are declared beside each repository and created at every start; migrations
are for changes to the data itself. A database written by newer code is refused.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable

from pymongo.asynchronous.database import AsyncDatabase

from core.sqlite import Database

log = logging.getLogger("core.migrations")

Migration = Callable[[AsyncDatabase], Awaitable[None]]


class SchemaTooNew(Exception):
    """The database was written by a newer Puente than this one."""


async def _v1_initial(db: AsyncDatabase) -> None:
    """The first schema: collections are created by their indexes; nothing to convert."""


async def _v2_tenant_defaults(db: AsyncDatabase) -> None:
    """Tenants stored before `suspended` and `attention` existed get their defaults."""
    await db["tenants"].update_many({"suspended": {"$exists": False}}, {"$set": {"suspended": False}})
    await db["tenants"].update_many({"attention": {"$exists": False}}, {"$set": {"attention": None}})


async def _v3_chats_index_not_unique(db: AsyncDatabase) -> None:
    """The (tenant, chat) index became plain: `_id` already makes it unique, and a unique
    secondary index makes every chats write scan the collection on the embedded store."""
    if "tenant_chat_unique" in await db["chats"].index_information():
        await db["chats"].drop_index("tenant_chat_unique")


# Migration 4 keeps its own copy of the message log's shape as it was on the day it was
# written: a migration is history, and must not change when the live code's limits do.
_V4_SEEN_PER_CHAT = 200
_V4_FAILED_PER_CHAT = 50


def _v4_key(tenant: str, chat: str) -> str:
    return f"{tenant}|{chat}"


async def _v4_message_log_per_chat(db: AsyncDatabase) -> None:
    """`messages` (a document per message) and `outbox` become `message_log` (a document per
    chat, holding the chat's queued replies too).

    Repeatable: every chat document is rebuilt from the old collections with $set, and they
    are dropped only at the end. A message that a queued reply answers is not pending.
    """
    answered_by_outbox: set[tuple[str, str]] = set()
    queued: dict[str, list[dict]] = {}
    async for doc in db["outbox"].find({}).sort("order", 1):
        key = _v4_key(doc["tenant"], doc["chat"])
        queued.setdefault(key, []).append(
            {"ref": doc["_id"], "text": doc["text"], "order": doc["order"], "created_at": doc.get("created_at")}
        )
        answered_by_outbox.update((doc["tenant"], message_id) for message_id in doc.get("answers", []))
    chats: dict[str, dict] = {}
    async for doc in db["messages"].find({}).sort("order", 1):
        key = _v4_key(doc["tenant"], doc["chat"])
        chat = chats.setdefault(key, {"tenant": doc["tenant"], "chat": doc["chat"], "seen": [], "pending": [],
                                      "failed": [], "days": {}, "last_at": doc.get("received_at")})
        chat["seen"].append(doc["message_id"])
        chat["last_at"] = doc.get("received_at") or chat["last_at"]
        status = doc.get("status")
        if doc.get("inbound") and doc.get("day"):
            counters = chat["days"].setdefault(doc["day"], {"in": 0, "answered": 0})
            counters["in"] += 1
        if status == "answered" and doc.get("answered_day"):
            chat["days"].setdefault(doc["answered_day"], {"in": 0, "answered": 0})["answered"] += 1
        if status == "failed":
            chat["failed"].append(doc["message_id"])
        if status == "pending" and (doc["tenant"], doc["message_id"]) not in answered_by_outbox:
            entry = {"id": doc["message_id"], "kind": doc.get("kind", "text"), "text": doc.get("text"),
                     "order": doc.get("order", 0), "received_at": doc.get("received_at")}
            if doc.get("media_base64"):
                await db["message_media"].update_one(
                    {"_id": _v4_key(doc["tenant"], doc["message_id"])},
                    {"$set": {"tenant": doc["tenant"], "data_base64": doc["media_base64"],
                              "mime": doc.get("media_mime"), "received_at": doc.get("received_at")}},
                    upsert=True,
                )
                entry["media"] = True
            chat["pending"].append(entry)
    for key, chat in chats.items():
        chat["seen"] = chat["seen"][-_V4_SEEN_PER_CHAT:]
        chat["failed"] = chat["failed"][-_V4_FAILED_PER_CHAT:]
        chat["outbox"] = queued.pop(key, [])
        await db["message_log"].update_one({"_id": key}, {"$set": chat}, upsert=True)
    for key, entries in queued.items():  # notices to chats with no recorded message
        tenant, chat_id = key.split("|", 1)
        await db["message_log"].update_one(
            {"_id": key}, {"$set": {"tenant": tenant, "chat": chat_id, "outbox": entries, "last_at": entries[-1]["created_at"]}},
            upsert=True,
        )
    await db["messages"].drop()
    await db["outbox"].drop()


async def _v5_landing_tokens_hashed(db: AsyncDatabase) -> None:
    """Landing tokens were stored in clear; only their SHA-256 is kept now (the links already
    sent keep working). The unique index on the clear field goes first: the field disappears
    from every tenant, and a unique index would see them all as one missing value."""
    tenants = db["tenants"]
    if "landing_token_unique" in await tenants.index_information():
        await tenants.drop_index("landing_token_unique")
    async for doc in tenants.find({"landing_token": {"$exists": True}}, {"landing_token": 1}):
        token_hash = hashlib.sha256(str(doc["landing_token"]).encode()).hexdigest()
        await tenants.update_one({"_id": doc["_id"]}, {"$set": {"landing_token_hash": token_hash},
                                                       "$unset": {"landing_token": ""}})


async def _v6_daily_counts_per_tenant(db: AsyncDatabase) -> None:
    """The daily counts leave the chats' documents for `message_days` (a document per tenant
    and day), so they outlive the chats' week-long logs. Repeatable: the totals are summed
    from the chats' documents and set, not added; the old fields are left to age out with
    their documents."""
    totals: dict[tuple[str, str], dict[str, int]] = {}
    async for doc in db["message_log"].find({"days": {"$exists": True}}, {"tenant": 1, "days": 1}):
        for day, counts in (doc.get("days") or {}).items():
            total = totals.setdefault((doc["tenant"], day), {"in": 0, "answered": 0})
            total["in"] += int(counts.get("in", 0))
            total["answered"] += int(counts.get("answered", 0))
    for (tenant, day), counts in totals.items():
        await db["message_days"].update_one({"_id": f"{tenant}|{day}"},
                                            {"$set": {"tenant": tenant, "day": day, **counts}}, upsert=True)


MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "initial schema", _v1_initial),
    (2, "tenant defaults for suspended and attention", _v2_tenant_defaults),
    (3, "chats (tenant, chat) index no longer unique", _v3_chats_index_not_unique),
    (4, "message log: one document per chat instead of one per message", _v4_message_log_per_chat),
    (5, "landing tokens stored as their SHA-256 only", _v5_landing_tokens_hashed),
    (6, "daily counts per tenant in message_days, kept longer than the chats' logs", _v6_daily_counts_per_tenant),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


# --- the embedded SQLite store --------------------------------------------------------
# Tables are declared beside each repository (CREATE ... IF NOT EXISTS at every start);
# these steps are for changes to the data, numbered on their own.


async def _sqlite_v1_initial(db: Database) -> None:
    """The first SQLite schema: tables are created by their repositories."""


def _v2_add_media_lost_at(conn: sqlite3.Connection) -> None:
    # A table made before the column existed; a new one is created with it (relay/chats/sqlite.py).
    columns = {row[1] for row in conn.execute("PRAGMA table_info(chats)")}
    if columns and "media_lost_at" not in columns:
        conn.execute("ALTER TABLE chats ADD COLUMN media_lost_at INTEGER")


async def _sqlite_v2_chats_media_lost_at(db: Database) -> None:
    """Chats remember when a customer was last told their audio or image did not arrive."""
    await db.write(_v2_add_media_lost_at)


def _v3_add_away_at(conn: sqlite3.Connection) -> None:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(chats)")}
    if columns and "away_at" not in columns:
        conn.execute("ALTER TABLE chats ADD COLUMN away_at INTEGER")


async def _sqlite_v3_chats_away_at(db: Database) -> None:
    """Chats remember when the away message was last sent (once per closed period)."""
    await db.write(_v3_add_away_at)


def _v4_add_new_customers(conn: sqlite3.Connection) -> None:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(handoff_days)")}
    if columns and "new_customers" not in columns:
        conn.execute("ALTER TABLE handoff_days ADD COLUMN new_customers INTEGER NOT NULL DEFAULT 0")


async def _sqlite_v4_handoff_days_new_customers(db: Database) -> None:
    """The day rows of handoffs count new customers too (chats seen for the first time), for the digest."""
    await db.write(_v4_add_new_customers)


SQLITE_MIGRATIONS: list[tuple[int, str, Callable[[Database], Awaitable[None]]]] = [
    (1, "initial schema", _sqlite_v1_initial),
    (2, "chats: media_lost_at, the once-an-hour 'your media did not arrive' notice", _sqlite_v2_chats_media_lost_at),
    (3, "chats: away_at, the away message sent once per closed period", _sqlite_v3_chats_away_at),
    (4, "handoff_days: new_customers, the chats seen for the first time each day", _sqlite_v4_handoff_days_new_customers),
]


def _sqlite_version(conn: sqlite3.Connection) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), "
                 "version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_version WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def _set_sqlite_version(conn: sqlite3.Connection, version: int) -> None:
    conn.execute("INSERT INTO schema_version (id, version) VALUES (1, ?) "
                 "ON CONFLICT (id) DO UPDATE SET version = excluded.version", (version,))


async def current_version(db: AsyncDatabase | Database) -> int:
    if isinstance(db, Database):
        return await db.write(_sqlite_version)
    doc = await db["schema"].find_one({"_id": "schema"})
    return int(doc["version"]) if doc else 0


async def _set_version(db: AsyncDatabase | Database, version: int) -> None:
    if isinstance(db, Database):
        await db.write(_set_sqlite_version, version)
    else:
        await db["schema"].update_one({"_id": "schema"}, {"$set": {"version": version}}, upsert=True)


async def migrate(db: AsyncDatabase | Database, migrations: list[tuple[int, str, Callable]] | None = None) -> int:
    """Bring the database to the newest version this code knows (the list of its back-end);
    return that version."""
    migrations = migrations or (SQLITE_MIGRATIONS if isinstance(db, Database) else MIGRATIONS)
    version = await current_version(db)
    newest = migrations[-1][0]
    if version > newest:
        raise SchemaTooNew(
            f"the database is at schema version {version}, but this Puente knows only up to {newest}: "
            "upgrade Puente or point it at another database"
        )
    for number, description, step in migrations:
        if number <= version:
            continue
        log.info("migration %d: %s", number, description)
        await step(db)
        await _set_version(db, number)
        version = number
    return version
