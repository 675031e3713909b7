"""Shared fixtures: a store per back-end, a fake clock, the tenant service."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.bus import EventBus
from core.migrations import migrate
from tenants.audit import open_audit_log
from tenants.repository import open_tenants
from tenants.secrets import SecretBox
from tenants.service import TenantService
from tests.support.clock import FakeClock
from tests.support.stores import BACKENDS, drop_if_real, make_store

TEST_SECRET_KEY = "x9YbqKkD5mJ8tWq2V3c7N1pL6rT0sA4eF8gH2jK5mN0="


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _started_store(backend: str, tmp_path):
    store = make_store(backend, tmp_path / "data")
    await store.start()
    await migrate(store.db)
    yield store
    await drop_if_real(store, backend)
    await store.stop()


@pytest.fixture(params=BACKENDS)
async def store(request, tmp_path):
    """Every store back-end in turn: the contract each repository keeps on all of them."""
    async for started in _started_store(request.param, tmp_path):
        yield started


@pytest.fixture(params=[b for b in BACKENDS if b != "sqlite"])
async def mongo_store(request, tmp_path):
    """The MongoDB back-ends only, for what only they have (their migrations, indexes)."""
    async for started in _started_store(request.param, tmp_path):
        yield started


@pytest.fixture
def published() -> list:
    return []


@pytest.fixture
async def tenants(store, clock, published) -> TenantService:
    repo = open_tenants(store.db)
    audit = open_audit_log(store.db, clock)
    await repo.ensure_indexes()
    await audit.ensure_indexes()
    return TenantService(repo, audit, SecretBox(TEST_SECRET_KEY), clock, published.append, "gpt-4.1-mini")


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def node_bridge_installed() -> None:
    """Fail, never skip, when the real Node bridge cannot run: `make test` installs it."""
    root = Path(__file__).resolve().parent.parent
    if shutil.which("node") is None or not (root / "bridge_node" / "node_modules").is_dir():
        pytest.fail("the Node bridge needs `node` and `cd bridge_node && npm ci` (make test does both)")
