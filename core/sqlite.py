"""The embedded store: one SQLite file in DATA_DIR, used in-process.

Every repository operation is a function of a `sqlite3.Connection` run as one
transaction on the store's own thread, so the event loop never waits on the disk and an
operation's statements commit or roll back together. One connection, one writer: SQLite's
own model. WAL journal, so a reader (a backup, `puente check`) never blocks it.

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

log = logging.getLogger("core.sqlite")

T = TypeVar("T")
Operation = Callable[..., T]

# SQLite's own words for the faults an operator can fix: the disk, the permissions.
_NO_SPACE = ("database or disk is full", "disk i/o error")
_READ_ONLY = ("attempt to write a readonly database", "readonly database", "unable to open database file")


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

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        try:
            await self._call(self._open)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    async def stop(self) -> None:
        if self._executor is None:
            return
        await self._call(self._close)
        self._executor.shutdown(wait=True)
        self._executor = None

    @property
    def started(self) -> bool:
        return self._executor is not None

    async def write(self, operation: Operation[T], *args: Any) -> T:
        """Run `operation(conn, *args)` as one write transaction; its result."""
        return await self._call(self._transaction, operation, args, "BEGIN IMMEDIATE")

    async def read(self, operation: Operation[T], *args: Any) -> T:
        """Run `operation(conn, *args)` in one read transaction (a consistent snapshot)."""
        return await self._call(self._transaction, operation, args, "BEGIN")

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
        try:
            return await loop.run_in_executor(self._executor, function, *args)
        except sqlite3.IntegrityError:
            raise  # a constraint the repository enforces on purpose (a taken slug, say)
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from exc

    # --- on the store's thread ----------------------------------------------------

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a foreign file fails here
        except BaseException:
            conn.close()
            raise
        self._conn = conn

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
