"""The store: the embedded SQLite database, the former mongoeco engine, or a real MongoDB
when configured; migrations numbered per back-end."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.migrations import SCHEMA_VERSION, SQLITE_MIGRATIONS, SchemaTooNew, current_version, migrate
from core.store import Store, StoreUnavailable
from relay.chats import PauseKind, open_chats
from relay.handoffs import HandoffBy, open_handoffs
from tests.support.processes import wait_ended


async def test_embedded_sqlite_store_keeps_data_across_restart_in_a_private_file(tmp_path):
    store = Store(None, "puente", tmp_path / "data")
    await store.start()
    chats = open_chats(store.db)
    await chats.ensure_indexes()
    await chats.pause("t", "c@s.whatsapp.net", PauseKind.MANUAL, datetime(2026, 12, 1, tzinfo=UTC))
    await store.stop()

    again = Store(None, "puente", tmp_path / "data")
    await again.start()
    try:
        assert (await open_chats(again.db).get("t", "c@s.whatsapp.net")).pause_kind is PauseKind.MANUAL
    finally:
        await again.stop()
    assert again.kind == "sqlite"
    assert (tmp_path / "data" / "puente.db").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "data" / "puente.sqlite3").exists()


async def test_sqlite_migrations_run_twice_are_harmless_and_a_newer_database_is_refused(tmp_path):
    store = Store(None, "puente", tmp_path / "data")
    await store.start()
    try:
        assert await migrate(store.db) == SQLITE_MIGRATIONS[-1][0]
        assert await migrate(store.db) == SQLITE_MIGRATIONS[-1][0]
        await store.db.write(lambda conn: conn.execute("UPDATE schema_version SET version = version + 1"))
        with pytest.raises(SchemaTooNew, match="upgrade Puente"):
            await migrate(store.db)
    finally:
        await store.stop()


async def test_a_sqlite_chats_table_from_before_the_media_notice_gets_its_column_and_keeps_its_rows(tmp_path):
    store = Store(None, "puente", tmp_path / "data")
    await store.start()
    try:
        await migrate(store.db, SQLITE_MIGRATIONS[:1])  # a database of the first version
        await store.db.script(  # with the table as that version created it
            "CREATE TABLE chats (tenant TEXT NOT NULL, chat TEXT NOT NULL, name TEXT, phone TEXT, "
            "conversation_id TEXT, pause_kind TEXT, paused_at INTEGER, last_customer_at INTEGER, "
            "last_owner_at INTEGER, last_activity_at INTEGER, unsupported_at INTEGER, fallback_at INTEGER, "
            "PRIMARY KEY (tenant, chat)) WITHOUT ROWID")
        now = datetime(2026, 12, 1, tzinfo=UTC)
        chats = open_chats(store.db)
        await chats.touch_customer("t", "c@s.whatsapp.net", now, "Ana", None)
        assert await migrate(store.db) == SQLITE_MIGRATIONS[-1][0]
        await chats.ensure_indexes()
        assert await chats.claim_once_per_hour("t", "c@s.whatsapp.net", "media_lost_at", now) is True
        assert await chats.claim_once_per_hour("t", "c@s.whatsapp.net", "media_lost_at", now) is False
        assert await chats.claim_since("t", "c@s.whatsapp.net", "away_at", now, now) is True
        assert (await chats.get("t", "c@s.whatsapp.net")).name == "Ana"
    finally:
        await store.stop()


async def test_a_sqlite_handoff_days_table_from_before_new_customers_gets_the_column_and_keeps_its_counts(tmp_path):
    store = Store(None, "puente", tmp_path / "data")
    await store.start()
    try:
        await migrate(store.db, SQLITE_MIGRATIONS[:3])  # a database of version 3
        await store.db.script(  # with the table as that version created it
            "CREATE TABLE handoff_days (tenant TEXT NOT NULL, day TEXT NOT NULL, "
            "assistant INTEGER NOT NULL DEFAULT 0, owner INTEGER NOT NULL DEFAULT 0, "
            "PRIMARY KEY (tenant, day)) WITHOUT ROWID")
        now = datetime(2026, 12, 1, tzinfo=UTC)
        handoffs = open_handoffs(store.db)
        await handoffs.record("t", HandoffBy.OWNER, now)
        assert await migrate(store.db) == SQLITE_MIGRATIONS[-1][0]
        await handoffs.ensure_indexes()
        await handoffs.record_new_customer("t", now)
        assert await handoffs.new_customers(["2026-12-01"], tenant="t") == 1
        assert await handoffs.count(HandoffBy.OWNER, ["2026-12-01"], tenant="t") == 1
    finally:
        await store.stop()


async def test_mongoeco_store_keeps_data_across_restart(tmp_path):
    store = Store(None, "puente", tmp_path / "data", engine="mongoeco")
    await store.start()
    await store.db["things"].insert_one({"_id": "a", "n": 1})
    await store.stop()

    again = Store(None, "puente", tmp_path / "data", engine="mongoeco")
    await again.start()
    try:
        assert await again.db["things"].find_one({"_id": "a"}) == {"_id": "a", "n": 1}
    finally:
        await again.stop()
    assert (tmp_path / "data" / "puente.sqlite3").exists()


async def test_a_mongoeco_store_stopped_mid_write_still_stops(tmp_path):
    # mongoeco 4.11: when the server closes the session of a request still being written, the
    # request's commit fails ("SQLite write scope cleanup failed") and leaves its transaction
    # open, so the engine's own close fails with "database is locked" (a full CI run failed
    # on it in a test's teardown). Stopping must still end, with a warning, not an error.
    # Whether this run's write is still open at the close is up to timing; the next test
    # makes the failure certain.
    store = Store(None, "puente", tmp_path / "data", engine="mongoeco", own_process=False)
    await store.start()
    cut_short = asyncio.create_task(store.db["bulk"].insert_many([{"n": i} for i in range(3000)]))
    while not await store.db["bulk"].count_documents({}):  # the engine is writing it now
        await asyncio.sleep(0.05)
    cut_short.cancel()
    await store.stop()  # raised "database is locked" before, whenever the write was still open
    with pytest.raises(StoreUnavailable):
        store.db


async def test_a_close_mongoeco_fails_with_a_locked_database_is_a_warning(caplog):
    # What mongoeco's proxy raises then (mongoeco/wire/proxy.py, _close_resources).
    from core.embedded_store import close_server

    class LockedAtClose:
        async def close(self) -> None:
            raise ExceptionGroup("proxy cleanup failed", [sqlite3.OperationalError("database is locked")])

    with caplog.at_level(logging.WARNING, logger="core.embedded_store"):
        await close_server(LockedAtClose())
    assert "closed uncleanly (OperationalError: database is locked)" in caplog.text


async def test_migrations_run_twice_are_harmless(mongo_store):
    store = mongo_store
    assert await current_version(store.db) == SCHEMA_VERSION
    await store.db["tenants"].insert_one({"_id": "old", "name": "Old"})
    assert await migrate(store.db) == SCHEMA_VERSION
    await store.db["schema"].update_one({"_id": "schema"}, {"$set": {"version": 1}})
    await migrate(store.db)
    await migrate(store.db)
    doc = await store.db["tenants"].find_one({"_id": "old"})
    assert doc["suspended"] is False and doc["attention"] is None
    assert await store.db["schema"].count_documents({}) == 1


async def test_refuses_a_database_newer_than_the_code(mongo_store):
    store = mongo_store
    await store.db["schema"].update_one({"_id": "schema"}, {"$set": {"version": SCHEMA_VERSION + 1}})
    with pytest.raises(SchemaTooNew, match="upgrade Puente"):
        await migrate(store.db)


async def test_migration_drops_the_old_unique_chats_index(mongo_store):
    store = mongo_store
    await store.db["schema"].update_one({"_id": "schema"}, {"$set": {"version": 2}})
    await store.db["chats"].create_index([("tenant", 1), ("chat", 1)], unique=True, name="tenant_chat_unique")
    await migrate(store.db)
    assert "tenant_chat_unique" not in await store.db["chats"].index_information()
    await migrate(store.db)  # harmless again


async def test_the_embedded_store_process_ends_when_the_relay_dies(tmp_path):
    """`puente run` killed with SIGKILL must not leave its store process holding the data."""
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from core.store import Store\n"
        "async def main():\n"
        "    store = Store(None, 'puente', Path(sys.argv[1]), engine='mongoeco')\n"
        "    await store.start()\n"
        "    await store.db['things'].insert_one({'_id': 'kept'})\n"
        "    print(store._process.pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    relay = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, str(tmp_path / "data"), stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    store_pid = int(await asyncio.wait_for(relay.stdout.readline(), 30))
    relay.kill()
    await relay.wait()
    await wait_ended(store_pid, 5, "the store process to end with the relay")
    again = Store(None, "puente", tmp_path / "data", engine="mongoeco")
    await again.start()
    try:
        assert await again.db["things"].find_one({"_id": "kept"}) == {"_id": "kept"}
    finally:
        await again.stop()


async def test_migration_6_moves_daily_counts_out_of_the_chats_and_can_run_again(mongo_store):
    from relay.message_log import open_message_log

    db = mongo_store.db
    await db["schema"].update_one({"_id": "schema"}, {"$set": {"version": 5}})
    await db["message_log"].insert_many([  # as migration 4 and the code until now kept them
        {"_id": "t|a", "tenant": "t", "chat": "a", "days": {"2026-11-30": {"in": 3, "answered": 2}}},
        {"_id": "t|b", "tenant": "t", "chat": "b", "days": {"2026-11-30": {"in": 1, "answered": 1},
                                                            "2026-12-01": {"in": 4, "answered": 4}}},
    ])
    await migrate(db)
    await db["schema"].update_one({"_id": "schema"}, {"$set": {"version": 5}})
    await migrate(db)  # again: the same totals, not doubled
    log = open_message_log(db)
    assert await log.count("in", ["2026-11-30"], tenant="t") == 4
    assert await log.count("answered", ["2026-11-30", "2026-12-01"]) == 7
