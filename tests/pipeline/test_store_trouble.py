"""The store refuses writes (disk full, read-only DATA_DIR) while customers write: one
error line and one alert, nothing acked that was not recorded, and every message answered
once the store takes writes again (tests/faults/test_store_trouble.py has the disk itself)."""

from __future__ import annotations

import logging

import pytest

from core.sqlite import DatabaseFull
from tests.support.pipeline import CUSTOMER


@pytest.fixture
async def bridge(rig):
    await rig.add_tenant()
    return await rig.connect(run_forever=True)


async def test_messages_wait_in_the_bridge_while_the_store_is_full_and_are_answered_after(rig, bridge, monkeypatch,
                                                                                          caplog):
    record = rig.pipeline.messages.record
    full = True

    async def record_on_a_full_disk(*args, **kwargs):
        if full:
            raise DatabaseFull("the disk holding /data is full: nothing was written")
        return await record(*args, **kwargs)

    monkeypatch.setattr(rig.pipeline.messages, "record", record_on_a_full_disk)
    caplog.set_level(logging.WARNING, logger="relay.pipeline")
    mid = await bridge.send_message(CUSTOMER, "¿hay stock?")
    await rig.wait_for(lambda: bridge.connections >= 3)  # refused, resent, refused again...
    assert mid in bridge.unacked and mid not in bridge.acks  # nothing acked that was not recorded
    assert [a.kind.value for a in rig.alerts if a.kind.value == "store_trouble"] == ["store_trouble"]  # once, not per try
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "refuses writes" in errors[0].getMessage() and not errors[0].exc_info
    full = False  # space comes back
    sent = await bridge.wait_for_sent(timeout=10)
    assert [s["text"] for s in sent] == ["Respuesta a: ¿hay stock?"]
    assert any("takes writes again" in r.getMessage() for r in caplog.records)
