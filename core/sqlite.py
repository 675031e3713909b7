"""The embedded store: one SQLite file in DATA_DIR, used in-process.

Every repository operation is a function of a `sqlite3.Connection` run as one
transaction, so an operation's statements commit or roll back together. One connection,
one writer: SQLite's own model. WAL journal, so a reader (a backup, `puente check`) never
blocks it. Operations run on the store's own thread (`read`, `write`), except *point*
operations (`read_point`, `write_point`: a few statements by primary key or unique index,
the per-message ones), which run on the event loop whenever the store thread is idle: such
an operation costs a few microseconds, the hop to the thread and back 35-200 µs of CPU
(two thread wake-ups and the loop's self-pipe), several times per message. Nothing on the
loop syncs: a commit in WAL mode with `synchronous=NORMAL` only appends to the WAL (the OS
page cache); the checkpoints, which sync, run on a connection and thread of their own,
beside the store's work, never in its way (SQLite's automatic one, which would run inside
whichever commit crosses its threshold, is off). A point read may
still fetch a page the OS has not cached. With `SQLITE_SYNCHRONOUS=full` every commit
syncs, so point writes go to the thread too.

Durability: `synchronous=NORMAL` in WAL mode by default: a commit survives Puente being
killed (`kill -9`) at any point; an operating-system crash or power cut can lose the
transactions of the last moments before the WAL was synced to disk. `SQLITE_SYNCHRONOUS=full`
syncs the WAL on every commit instead (each commit then waits for the disk).

Cost per operation is that of a B-tree lookup: O(log n) in what is stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from core.tasks import spawn

log = logging.getLogger("core.sqlite")

T = TypeVar("T")
Operation = Callable[..., T]

# SQLite's own words for the faults an operator can fix: the disk, the permissions.
_NO_SPACE = ("database or disk is full", "disk i/o error")
_READ_ONLY = ("attempt to write a readonly database", "readonly database", "unable to open database file")
# Write transactions between two checkpoints (each writes a few pages to the WAL): about
# SQLite's default threshold of 1,000 pages.
CHECKPOINT_EVERY = 250


class DatabaseError(Exception):
    """Base of the embedded store's failures; the message is one sentence for a person."""


class DatabaseFull(DatabaseError):
    """The disk holding DATA_DIR is full (or was, for that write): nothing was written."""


class DatabaseReadOnly(DatabaseError):
    """DATA_DIR or the database file cannot be written."""


class DatabaseCorrupt(DatabaseError):
    """The file is not a SQLite database Puente can use."""


class Database:
    """One SQLite database file; see the module docstring."""

    def __init__(self, path: Path, *, synchronous: str = "normal") -> None:
        self.path = path
        self._synchronous = synchronous.upper()
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        # Operations handed to the store thread, and those it finished: each counter has one
        # writer (the loop, the thread), so the connection is free when they are equal.
        self._handed = 0
        self._finished = 0
        self._writes = 0  # write transactions since the last checkpoint was asked for
        self._checkpoint: asyncio.Task[None] | None = None
        # Checkpoints run on a connection and thread of their own: WAL lets them copy pages
        # into the database while the store's connection goes on reading and writing, so no
        # message waits behind one (bench/README.md: they were the p99 at 100k chats).
        self._checkpointer: ThreadPoolExecutor | None = None
        self._checkpoint_conn: sqlite3.Connection | None = None

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")
        try:
            await self._call(self._open)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            self._checkpointer.shutdown(wait=False)
            self._checkpointer = None
            raise

    async def stop(self) -> None:
        if self._executor is None:
            return
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        checkpointer, self._checkpointer = self._checkpointer, None
        await asyncio.get_running_loop().run_in_executor(checkpointer, self._close_checkpoint_conn)
        checkpointer.shutdown(wait=True)
        await self._call(self._close)
        self._executor.shutdown(wait=True)
        self._executor = None

    @property
    def started(self) -> bool:
        return self._executor is not None

    async def write(self, operation: Operation[T], *args: Any) -> T:
        """Run `operation(conn, *args)` as one write transaction on the store thread; its result."""
        result = await self._call(self._transaction, operation, args, "BEGIN IMMEDIATE")
        self._wrote()
        return result

    async def read(self, operation: Operation[T], *args: Any) -> T:
        """Run `operation(conn, *args)` in one read transaction (a consistent snapshot) on the store thread."""
        return await self._call(self._transaction, operation, args, "BEGIN")

    async def write_point(self, operation: Operation[T], *args: Any) -> T:
        """`write` for an operation of a few statements by key: on the event loop when the
        store thread is idle and commits do not sync, else queued on the thread, in order."""
        if self._synchronous in ("FULL", "EXTRA") or not self._idle():
            return await self.write(operation, *args)
        result = self._inline(operation, args, "BEGIN IMMEDIATE")
        self._wrote()
        return result

    async def read_point(self, operation: Operation[T], *args: Any) -> T:
        """`read` for an operation of a few statements by key: on the event loop when the
        store thread is idle, else queued on the thread, in order."""
        if not self._idle():
            return await self.read(operation, *args)
        return self._inline(operation, args, "BEGIN")

    async def script(self, sql: str) -> None:
        """Run DDL statements (CREATE TABLE IF NOT EXISTS ...) as one transaction."""
        def run(conn: sqlite3.Connection) -> None:
            for statement in (s.strip() for s in sql.split(";")):
                if statement:
                    conn.execute(statement)
        await self.write(run)

    async def backup(self, target: Path) -> None:
        """A consistent copy of the whole database at `target`, taken while it is in use."""
        def copy() -> None:
            destination = sqlite3.connect(target)
            try:
                self._require().backup(destination)
            finally:
                destination.close()
        await self._call(copy)

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise DatabaseError("the embedded store is not started")
        loop = asyncio.get_running_loop()
        self._handed += 1
        try:
            return await loop.run_in_executor(self._executor, self._on_thread, function, args)
        except sqlite3.IntegrityError:
            raise  # a constraint the repository enforces on purpose (a taken slug, say)
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from exc

    def _idle(self) -> bool:
        """Nothing is queued on or running in the store thread: the connection is free. (A
        cancelled caller does not count: its operation still runs to its end on the thread.)"""
        if self._executor is None:
            raise DatabaseError("the embedded store is not started")
        return self._handed == self._finished

    def _inline(self, operation: Operation[T], args: tuple, begin: str) -> T:
        try:
            return self._transaction(operation, args, begin)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from exc

    def _wrote(self) -> None:
        """Count a write; every CHECKPOINT_EVERY, copy the WAL into the database, beside the
        store's own work (a connection and thread of the checkpoint's own)."""
        self._writes += 1
        if self._writes >= CHECKPOINT_EVERY and (self._checkpoint is None or self._checkpoint.done()):
            self._writes = 0
            self._checkpoint = spawn(self._run_checkpoint(), name="sqlite-checkpoint")

    async def _run_checkpoint(self) -> None:
        if self._checkpointer is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(self._checkpointer, self._checkpoint_wal)
        except sqlite3.DatabaseError as exc:  # a full disk, say: the WAL keeps the data; tried again later
            log.warning("WAL checkpoint failed: %s", self._explain(exc))

    # --- on the store's thread ----------------------------------------------------

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run beside this connection (_wrote)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a foreign file fails here
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _on_thread(self, function: Callable[..., T], args: tuple) -> T:
        try:
            return function(*args)
        finally:
            self._finished += 1

    # --- on the checkpoint's thread ----------------------------------------------

    def _checkpoint_wal(self) -> None:
        """PASSIVE: copies what no reader still needs, never waits for, nor blocks, the
        store's connection."""
        if self._checkpoint_conn is None:
            self._checkpoint_conn = sqlite3.connect(self.path, isolation_level=None)
            self._checkpoint_conn.execute(f"PRAGMA synchronous={self._synchronous}")
            self._checkpoint_conn.execute("PRAGMA busy_timeout=5000")
            self._checkpoint_conn.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _close_checkpoint_conn(self) -> None:
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None

    # --- on the store's thread ----------------------------------------------------

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise DatabaseError("the embedded store is not open")
        return self._conn

    def _transaction(self, operation: Operation[T], args: tuple, begin: str) -> T:
        conn = self._require()
        conn.execute(begin)
        try:
            result = operation(conn, *args)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _explain(self, exc: sqlite3.DatabaseError) -> DatabaseError:
        text = str(exc).lower()
        if any(words in text for words in _NO_SPACE):
            return DatabaseFull(f"the disk holding {self.path.parent} is full: nothing was written")
        if any(words in text for words in _READ_ONLY):
            return DatabaseReadOnly(f"{self.path} cannot be written (read-only folder or file)")
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return DatabaseCorrupt(
                f"{self.path} is not a Puente database or is damaged: restore a backup with `puente restore FILE`, "
                "or move the file away to start empty")
        return DatabaseError(f"the embedded store failed: {exc}")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def stamp(moment: datetime | None) -> int | None:
    """A moment as stored: whole milliseconds since the epoch (MongoDB's precision too)."""
    return None if moment is None else (moment - _EPOCH) // _MS


def moment(value: int | None) -> datetime | None:
    """A stored moment back as an aware UTC datetime."""
    return None if value is None else _EPOCH + value * _MS


def to_json(value: Any) -> str:
    """A document as JSON text for a column, its moments kept as MongoDB keeps them (whole
    milliseconds, as `{"$date": ms}`), so it reads back equal on both back-ends."""
    return json.dumps(value, default=_encode_moment)


def from_json(text: str) -> Any:
    """What `to_json` wrote, moments as aware datetimes again."""
    return json.loads(text, object_hook=_decode_moment)


def _encode_moment(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$date": stamp(value)}
    raise TypeError(f"a stored document cannot hold {type(value).__name__}")


def _decode_moment(obj: dict[str, Any]) -> Any:
    return moment(obj["$date"]) if obj.keys() == {"$date"} else obj
