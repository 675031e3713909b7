"""The MongoDB connection: a real server at MONGODB_URI, or the embedded engine.

Without MONGODB_URI, mongoeco's wire server runs inside this process on a loopback
port, over a SQLite file in DATA_DIR, and the same PyMongo client connects to it: one
code path for both.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

log = logging.getLogger("relay.store")


class StoreUnavailable(Exception):
    """The database cannot be reached."""


class Store:
    """Owns the PyMongo client (and the embedded server when there is one)."""

    def __init__(self, uri: str | None, db_name: str, data_dir: Path) -> None:
        self._uri = uri
        self._db_name = db_name
        self._data_dir = data_dir
        self._embedded = None
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
        # Imported here: a deployment with a real MongoDB never loads the engine.
        from mongoeco.engines.sqlite import SQLiteEngine
        from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

        self._data_dir.mkdir(parents=True, exist_ok=True)
        path = self._data_dir / "puente.sqlite3"
        self._embedded = AsyncMongoEcoProxyServer(engine=SQLiteEngine(path=str(path)), host="127.0.0.1", port=0)
        address = await self._embedded.start()
        log.info("embedded store at %s (%s)", path, address.uri)
        return address.uri

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
