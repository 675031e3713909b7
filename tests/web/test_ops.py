"""GET /healthz, /readyz and /metrics as an orchestrator or Prometheus sees them, on the
operations listener (and /healthz, /readyz on the public one too)."""

from __future__ import annotations

from tests.support.web import fetch


async def test_healthz_says_ok_while_the_process_runs(rig, http):
    status, body, _ = await fetch(http, f"{rig.url}/healthz")

    assert (status, body) == (200, "ok\n")


async def test_readyz_is_ready_when_the_store_answers_and_the_bot_polls(rig, http):
    status, body, _ = await fetch(http, f"{rig.ops_url}/readyz")

    assert status == 200 and "store: up" in body and "admin bot: up" in body


async def test_readyz_names_the_admin_bot_when_it_does_not_poll(rig, http):
    rig.bot_polling = False

    status, body, _ = await fetch(http, f"{rig.ops_url}/readyz")

    assert status == 503
    assert "admin bot: down" in body and "store: down" not in body


async def test_readyz_names_the_store_when_the_database_is_gone(rig, http):
    await rig.store.stop()

    status, body, _ = await fetch(http, f"{rig.ops_url}/readyz")

    assert status == 503
    assert "store: down" in body and "admin bot: down" not in body


async def test_metrics_are_served_in_prometheus_text_format(rig, http):
    rig.metrics.messages_in.labels("panaderia-sol").inc(3)

    status, body, headers = await fetch(http, f"{rig.ops_url}/metrics")

    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=")
    assert 'puente_messages_in_total{tenant="panaderia-sol"} 3.0' in body
    assert "puente_bridges" in body
