"""The MongoDB connection: a real server at MONGODB_URI, or the embedded engine.

Without MONGODB_URI, mongoeco's wire server runs over a SQLite file in DATA_DIR on a
loopback port, in a process of its own (core/embedded_store.py) or, for tests that want a
quick start, inside this one; the same PyMongo client connects to it: one code path for both.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from core.data_dir import make_private_dir, make_private_files, sqlite_files

log = logging.getLogger("core.store")


class StoreUnavailable(Exception):
    """The database cannot be reached."""


class StoreLost(Exception):
    """The embedded store's process ended while Puente was running."""


class Store:
    """Owns the PyMongo client (and the embedded server when there is one)."""

    START_TIMEOUT = 60.0
    STOP_TIMEOUT = 15.0

    def __init__(self, uri: str | None, db_name: str, data_dir: Path, *, own_process: bool = True) -> None:
        self._uri = uri
        self._db_name = db_name
        self._data_dir = data_dir
        self._own_process = own_process
        self._embedded = None
        self._process: asyncio.subprocess.Process | None = None
        self._client: AsyncMongoClient | None = None

    @property
    def embedded(self) -> bool:
        return self._uri is None

    @property
    def db(self) -> AsyncDatabase:
        if self._client is None:
            raise StoreUnavailable("the store is not started")
        return self._client[self._db_name]

    @property
    def uri(self) -> str | None:
        """The URI the client uses (the embedded server's loopback address when embedded)."""
        return self._uri

    async def start(self) -> None:
        uri = self._uri
        if uri is None:
            uri = await self._start_embedded()
        self._client = AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=10_000, appname="puente")
        await self.ping()

    async def _start_embedded(self) -> str:
        make_private_dir(self._data_dir)
        path = self._data_dir / "puente.sqlite3"
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
        from mongoeco.engines.sqlite import SQLiteEngine
        from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

        self._embedded = AsyncMongoEcoProxyServer(engine=SQLiteEngine(path=str(path)), host="127.0.0.1", port=0)
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
            await self.db.command("ping")
        except Exception as exc:
            raise StoreUnavailable(f"the database does not answer: {type(exc).__name__}") from None

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._embedded is not None:
            await self._embedded.close()
            self._embedded = None
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
