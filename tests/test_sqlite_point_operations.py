"""Point operations of the embedded store (core/sqlite.py): they run on the event loop while
the store thread is idle, wait behind it otherwise, and are committed when they return,
so what the relay acks or sends is on disk whichever path it took."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

from core import sqlite as store_sqlite
from core.sqlite import Database


async def _database(tmp_path) -> Database:
    db = Database(tmp_path / "puente.db")
    await db.start()
    await db.script("CREATE TABLE seen (id TEXT PRIMARY KEY, n INTEGER)")
    return db


def _other_connection_reads(db: Database, key: str) -> int | None:
    """What a second connection (another process: a backup, `puente check`) sees committed."""
    conn = sqlite3.connect(db.path)
    try:
        row = conn.execute("SELECT n FROM seen WHERE id = ?", (key,)).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


async def test_a_point_write_is_committed_when_it_returns(tmp_path) -> None:
    db = await _database(tmp_path)
    try:
        await db.write_point(lambda conn: conn.execute("INSERT INTO seen VALUES ('m1', 1)"))
        assert _other_connection_reads(db, "m1") == 1
        assert await db.read_point(lambda conn: conn.execute("SELECT n FROM seen").fetchone()[0]) == 1
    finally:
        await db.stop()


async def test_a_point_write_waits_behind_the_store_thread_and_is_never_interleaved(tmp_path) -> None:
    db = await _database(tmp_path)
    started, release = threading.Event(), threading.Event()

    def long_operation(conn: sqlite3.Connection) -> list[str]:
        conn.execute("INSERT INTO seen VALUES ('slow', 1)")
        started.set()
        release.wait(5)  # a cleanup or a backup still running on the thread
        return [row[0] for row in conn.execute("SELECT id FROM seen ORDER BY id")]

    try:
        slow = asyncio.create_task(db.write(long_operation))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        point = asyncio.create_task(db.write_point(lambda conn: conn.execute("INSERT INTO seen VALUES ('fast', 2)")))
        await asyncio.sleep(0.1)
        assert not point.done()  # queued on the thread, not run inside the open transaction
        release.set()
        assert await slow == ["slow"]  # the long transaction never saw the point write
        await point
        assert _other_connection_reads(db, "fast") == 2
    finally:
        release.set()
        await db.stop()


async def test_the_wal_is_checkpointed_beside_the_store_and_no_message_waits_for_it(tmp_path, monkeypatch) -> None:
    # A checkpoint copies the WAL into the database and syncs it: at 100k chats it took long
    # enough to be the relay's p99 (bench/README.md). In WAL mode SQLite lets it run on a
    # connection of its own while the store's connection goes on (wal_checkpoint PASSIVE).
    monkeypatch.setattr(store_sqlite, "CHECKPOINT_EVERY", 10)
    db = await _database(tmp_path)
    checkpoints: list[str] = []
    release = threading.Event()
    real = db._checkpoint_wal

    def slow_checkpoint() -> None:
        checkpoints.append(threading.current_thread().name)
        release.wait(5)  # a checkpoint still copying pages
        real()

    monkeypatch.setattr(db, "_checkpoint_wal", slow_checkpoint)
    try:
        for n in range(25):
            await asyncio.wait_for(
                db.write_point(lambda conn, n=n: conn.execute("INSERT INTO seen VALUES (?, ?)", (f"m{n}", n))), 1)
            await asyncio.sleep(0)  # the relay awaits its sockets between messages
        assert await asyncio.wait_for(db.read(lambda conn: conn.execute("SELECT count(*) FROM seen").fetchone()[0]),
                                      1) == 25
        assert checkpoints and all(name.startswith("sqlite-checkpoint") for name in checkpoints)
        assert _other_connection_reads(db, "m24") == 24
    finally:
        release.set()
        await db.stop()
