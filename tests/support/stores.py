"""Store back-ends for contract tests: the embedded SQLite store and mongoeco's engine
always, a real MongoDB when TEST_MONGODB_URI is set. Every test that takes the `store`
fixture runs once per back-end, so a behaviour that differs between them fails a test."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from core.sqlite import Database
from core.store import Store

BACKENDS = ["sqlite", "mongoeco"] + (["mongodb"] if os.environ.get("TEST_MONGODB_URI") else [])


def make_store(backend: str, data_dir: Path) -> Store:
    """A store on a fresh database of the given back-end."""
    if backend == "sqlite":
        return Store(None, "puente", data_dir)
    if backend == "mongodb":
        return Store(os.environ["TEST_MONGODB_URI"], f"puente_test_{uuid.uuid4().hex[:12]}", data_dir)
    # In this process: a store per test starts in milliseconds instead of a second. The
    # composition root (puente.app.Puente) and `puente run` use the store's own process.
    return Store(None, "puente", data_dir, engine="mongoeco", own_process=False)


async def drop_if_real(store: Store, backend: str) -> None:
    """Leave nothing behind on a real server."""
    if backend == "mongodb":
        await store.db.client.drop_database(store.db.name)


async def everything_stored(store) -> str:
    """Every value the store holds, as text (to prove what it does not keep)."""
    if isinstance(store.db, Database):
        return await store.db.read(lambda conn: "\n".join(conn.iterdump()))
    return str([await store.db[name].find({}).to_list() for name in await store.db.list_collection_names()])
