"""Contracts of the small repositories (audit log, OpenAI error counts, QR watchers), run
against every store back-end by the `store` fixture: each behaves the same on each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tenants.audit import AuditEntry, open_audit_log
from tests.support.clock import FakeClock

NOW = datetime(2026, 11, 26, 15, 0, 0, 123_456, tzinfo=UTC)  # sub-millisecond: both keep whole ms


# --- audit log ------------------------------------------------------------------------


@pytest.fixture
async def audit(store, clock):
    log = open_audit_log(store.db, clock)
    await log.ensure_indexes()
    return log


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def test_audit_entries_read_back_newest_first_with_their_detail(audit, clock):
    await audit.record("admin:1", "create", "sol", name="Tienda Sol", model="gpt-4.1-mini")
    clock.advance(minutes=1)
    await audit.record("admin:2", "settings", "sol", handoff_hours=6, replies={"voice": True, "ratio": 0.5},
                       note=None, tags=["a", "b"])
    await audit.record("admin:2", "delete", "luna")
    entries = await audit.for_tenant("sol")
    later = datetime(2026, 11, 26, 15, 1, 0, 123_000, tzinfo=UTC)
    assert entries == [
        AuditEntry("admin:2", "settings", "sol", later,
                   {"handoff_hours": 6, "replies": {"voice": True, "ratio": 0.5}, "note": None, "tags": ["a", "b"]}),
        AuditEntry("admin:1", "create", "sol", later - timedelta(minutes=1),
                   {"name": "Tienda Sol", "model": "gpt-4.1-mini"}),
    ]
    assert [e.action for e in await audit.for_tenant("luna")] == ["delete"]
    assert await audit.for_tenant("nobody") == []


async def test_audit_entries_of_one_moment_read_last_recorded_first_and_limit_keeps_the_newest(audit):
    for action in ("create", "key", "email", "model"):  # the fake clock does not move
        await audit.record("admin:1", action, "sol")
    assert [e.action for e in await audit.for_tenant("sol")] == ["model", "email", "key", "create"]
    assert [e.action for e in await audit.for_tenant("sol", limit=2)] == ["model", "email"]


async def test_audit_retention_forgets_only_entries_older_than_the_cut_of_every_tenant(audit, clock):
    await audit.record("admin:1", "create", "sol")
    await audit.record("admin:1", "create", "luna")
    clock.advance(days=200)
    cut = clock.now()
    await audit.record("admin:1", "model", "sol")  # exactly at the cut: kept
    clock.advance(days=200)
    await audit.record("admin:1", "email", "sol")
    assert await audit.forget_older_than(cut) == 2
    assert [e.action for e in await audit.for_tenant("sol")] == ["email", "model"]
    assert await audit.for_tenant("luna") == []
    assert await audit.forget_older_than(cut) == 0
