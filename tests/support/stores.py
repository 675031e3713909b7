"""Store back-ends for contract tests: the embedded engine always, real MongoDB when
TEST_MONGODB_URI is set."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from core.store import Store

BACKENDS = ["embedded"] + (["mongodb"] if os.environ.get("TEST_MONGODB_URI") else [])


def make_store(backend: str, data_dir: Path) -> Store:
    """A store on a fresh database of the given back-end."""
    if backend == "mongodb":
        return Store(os.environ["TEST_MONGODB_URI"], f"puente_test_{uuid.uuid4().hex[:12]}", data_dir)
    # In this process: a store per test starts in milliseconds instead of a second. The
    # composition root (relay.app.Puente) and `puente run` use the store's own process.
    return Store(None, "puente", data_dir, own_process=False)


async def drop_if_real(store: Store, backend: str) -> None:
    """Leave nothing behind on a real server."""
    if backend == "mongodb":
        await store.db.client.drop_database(store.db.name)
