"""The store: the embedded SQLite database in DATA_DIR (core/sqlite.py), or MongoDB.

Without MONGODB_URI, the default is SQLite used in-process: no server, no port, no second
process. With MONGODB_URI, PyMongo's async client talks to that server. Repositories pick
their implementation from what `Store.db` is (a core.sqlite.Database or a PyMongo
database).

`engine="mongoeco"` keeps the former embedded store (mongoeco's wire server over a SQLite
file, in a process of its own or in this one) for comparison benchmarks, for the contract
tests of the MongoDB side, and to import a database written by an earlier Puente.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
from pathlib import Path

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from core.data_dir import FILE_MODE, make_private_dir, make_private_files, sqlite_files
from core.settings import Settings
from core.sqlite import Database

log = logging.getLogger("core.store")

SQLITE_FILE = "puente.db"
MONGOECO_FILE = "puente.sqlite3"  # the embedded store of Puente before SQLite in-process


class StoreUnavailable(Exception):
    """The database cannot be reached."""


class StoreLost(Exception):
    """The embedded store's process ended while Puente was running."""


def store_for(settings: Settings) -> Store:
    """The store the settings ask for: MongoDB at MONGODB_URI, else the embedded one."""
    return Store(settings.mongodb_uri, settings.mongodb_db, settings.data_dir, engine=settings.embedded_store,
                 synchronous=settings.sqlite_synchronous)


class Store:
    """Owns the PyMongo client (and the embedded server when there is one)."""

    START_TIMEOUT = 60.0
    STOP_TIMEOUT = 15.0

    def __init__(
        self, uri: str | None, db_name: str, data_dir: Path, *, engine: str = "sqlite", own_process: bool = True,
        synchronous: str = "normal",
    ) -> None:
        self._uri = uri
        self._db_name = db_name
        self._data_dir = data_dir
        self._engine = engine
        self._own_process = own_process
        self._synchronous = synchronous
        self._embedded = None
        self._process: asyncio.subprocess.Process | None = None
        self._client: AsyncMongoClient | None = None
        self._sqlite: Database | None = None

    @property
    def embedded(self) -> bool:
        return self._uri is None

    @property
    def kind(self) -> str:
        """`sqlite` (the embedded default), `mongoeco` or `mongodb`."""
        return "mongodb" if self._uri is not None else self._engine

    @property
    def sqlite_path(self) -> Path:
        """Where the embedded SQLite database lives (whether or not it is the one in use)."""
        return self._data_dir / SQLITE_FILE

    @property
    def mongoeco_path(self) -> Path:
        """Where the former embedded store (mongoeco) kept its data."""
        return self._data_dir / MONGOECO_FILE

    @property
    def db(self) -> Database | AsyncDatabase:
        if self._sqlite is not None:
            return self._sqlite
        if self._client is None:
            raise StoreUnavailable("the store is not started")
        return self._client[self._db_name]

    @property
    def uri(self) -> str | None:
        """The URI the client uses (the embedded server's loopback address when embedded)."""
        return self._uri

    async def start(self) -> None:
        if self.kind == "sqlite":
            await self._start_sqlite()
            return
        uri = self._uri
        if uri is None:
            uri = await self._start_embedded()
        self._client = AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=10_000, appname="puente")
        await self.ping()

    async def _start_sqlite(self) -> None:
        make_private_dir(self._data_dir)
        path = self.sqlite_path
        if not path.exists():  # created 0600; SQLite gives its -wal and -shm files the same mode
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
        make_private_files(*sqlite_files(path))
        database = Database(path, synchronous=self._synchronous)
        await database.start()
        self._sqlite = database
        log.info("embedded store at %s (SQLite %s, synchronous=%s)", path, sqlite3.sqlite_version,
                 self._synchronous)

    async def _start_embedded(self) -> str:
        make_private_dir(self._data_dir)
        path = self.mongoeco_path
        uri = await (self._start_process(path) if self._own_process else self._start_in_process(path))
        make_private_files(*sqlite_files(path))
        log.info("embedded store at %s (%s)", path, uri)
        return uri

    async def _start_process(self, path: Path) -> str:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "core.embedded_store", str(path),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), self.START_TIMEOUT)
        except TimeoutError:
            line = b""
        if not line.startswith(b"mongodb://"):
            await self._stop_process()
            raise StoreUnavailable(f"the embedded store did not start; its messages are above ({path})")
        return line.decode().strip()

    async def _start_in_process(self, path: Path) -> str:
        # Imported here: a deployment with a real MongoDB never loads the engine.
        from core.embedded_store import proxy_server

        self._embedded = proxy_server(path)
        return (await self._embedded.start()).uri

    async def lost(self) -> StoreLost:
        """Wait until the embedded store's process ends on its own (never, for any other store)."""
        if self._process is None:
            await asyncio.Event().wait()
        code = await self._process.wait()
        return StoreLost(f"the embedded store process ended unexpectedly (exit code {code}); Puente stopped")

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        try:
            if self._sqlite is not None:
                await self._sqlite.read(lambda conn: conn.execute("SELECT 1").fetchone())
                return
            await self.db.command("ping")
        except Exception as exc:
            raise StoreUnavailable(f"the database does not answer: {type(exc).__name__}") from None

    async def backup(self, target: Path) -> None:
        """A consistent snapshot of the embedded database at `target`, taken while it runs."""
        if self._sqlite is None:
            raise StoreUnavailable("only the embedded SQLite store is copied as a file; use an archive")
        await self._sqlite.backup(target)

    async def stop(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.stop()
            self._sqlite = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._embedded is not None:
            from core.embedded_store import close_server

            embedded, self._embedded = self._embedded, None
            await close_server(embedded)
        await self._stop_process()

    async def _stop_process(self) -> None:
        """Close the store process's stdin (its signal to finish) and wait for it to exit."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), self.STOP_TIMEOUT)
        except TimeoutError:
            log.warning("the embedded store did not stop within %.0f s; killed", self.STOP_TIMEOUT)
            process.kill()
            await process.wait()
