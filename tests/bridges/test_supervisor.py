"""The supervisor running real bridge processes (tests/support/bridge_process.py)."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest

from core.events import Alert, AlertKind, BridgeConnected, WhatsAppStateChanged
from relay.bridges.errors import BridgeDisabled, BridgeError
from tests.fakes import BridgeRejected, FakeBridge
from tests.support.bridges import records, set_mode

WAIT = 15.0


async def wait_records(record_dir, tenant, predicate):
    """Poll the process bridge's record file (written by another process)."""
    async with asyncio.timeout(WAIT):
        while True:
            found = [r for r in records(record_dir, tenant) if predicate(r)]
            if found:
                return found
            await asyncio.sleep(0.05)


async def wait_connected(side, tenant: str, count: int = 1) -> None:
    """Until the tenant's bridge has connected `count` times in total."""
    await side.events.changes.wait_until(
        lambda: len(side.events.of(BridgeConnected, tenant=tenant)) >= count and side.bridges.is_connected(tenant),
        WAIT, f"{count} connection(s) of {tenant}")


async def eventually(predicate, what: str) -> None:
    """Poll a condition on other processes until it holds."""
    async with asyncio.timeout(WAIT):
        while not predicate():
            await asyncio.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def started(record_dir, tenant) -> list[dict]:
    return [r for r in records(record_dir, tenant) if r["event"] == "started"]


async def test_one_bridge_per_enabled_tenant_with_the_protocol_environment(supervised, record_dir, caplog) -> None:
    caplog.set_level(logging.INFO, logger="relay.bridge")
    side = await supervised()
    await side.start()
    await side.add_tenant("tienda-a")
    await side.add_tenant("tienda-b")
    await side.add_tenant("apagada", enabled=False)
    await side.stop()
    side = await supervised()
    await side.start(supervise=True)
    await wait_connected(side, "tienda-a")
    await wait_connected(side, "tienda-b")
    assert not side.supervisor.is_running("apagada") and started(record_dir, "apagada") == []
    first = started(record_dir, "tienda-a")[0]
    assert first["url"] == side.url and first["log_level"] == "debug"
    assert first["session_dir"] == str((side.settings.sessions_dir / "tienda-a").resolve())
    assert first["cwd"] == os.getcwd()
    def stdout_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records
                if r.name == "relay.bridge.tienda-a" and "connected with token" in r.getMessage()]
    await eventually(stdout_lines, "the bridge's stdout in the log")
    assert stdout_lines()[0] == "bridge of tienda-a connected with token ***"
    assert first["token"] not in caplog.text
    await side.stop()
    assert not alive(first["pid"])


async def test_a_created_or_enabled_tenant_gets_its_bridge(supervised, record_dir) -> None:
    side = await supervised()
    await side.start(supervise=True)
    await side.add_tenant("nueva")
    await wait_connected(side, "nueva")
    await side.add_tenant("dormida", enabled=False)
    await side.tenants.set_enabled("dormida", True, "telegram:1")
    await wait_connected(side, "dormida")
    await side.stop()


async def test_a_killed_bridge_comes_back_with_a_new_token_and_the_old_one_is_refused(supervised, record_dir) -> None:
    side = await supervised()
    await side.start(supervise=True)
    await side.add_tenant("tienda")
    await wait_connected(side, "tienda")
    first = started(record_dir, "tienda")[0]
    os.kill(first["pid"], 9)
    await wait_connected(side, "tienda", count=2)
    second = started(record_dir, "tienda")[1]
    assert second["pid"] != first["pid"] and second["token"] != first["token"]
    assert side.metrics.registry.get_sample_value("puente_bridge_restarts_total", {"tenant": "tienda"}) == 1
    stale = FakeBridge(side.url, "tienda", first["token"])
    with pytest.raises(BridgeRejected) as caught:
        await stale.start()
    await stale.stop()
    assert caught.value.status == 401
    assert side.bridges.is_connected("tienda")
    await side.stop()


async def test_disable_sends_shutdown_then_sigterm_and_keeps_it_stopped(supervised, record_dir) -> None:
    side = await supervised(shutdown_grace=1.0, kill_grace=5.0)
    await side.start(supervise=True)
    await side.add_tenant("tienda")
    set_mode(record_dir, "tienda", "ignore_shutdown")
    await wait_connected(side, "tienda")
    pid = side.supervisor.pid("tienda")
    await side.tenants.set_enabled("tienda", False, "telegram:1")
    await wait_records(record_dir, "tienda", lambda r: r["event"] == "exit")
    events = [r["event"] for r in records(record_dir, "tienda")]
    assert events == ["started", "connected", "shutdown", "sigterm", "exit"]
    await eventually(lambda: not alive(pid), "the process gone")
    # the supervisor first lets the last frames land (up to _LAST_FRAMES_WAIT, 3 s): room for a loaded machine
    await side.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "stopped", timeout=15,
                               tenant="tienda")
    assert not side.supervisor.is_running("tienda") and len(started(record_dir, "tienda")) == 1
    await side.stop()


async def test_a_bridge_ignoring_sigterm_is_killed_after_the_grace(supervised, record_dir) -> None:
    side = await supervised(shutdown_grace=0.2, kill_grace=0.5)
    await side.start(supervise=True)
    await side.add_tenant("tienda")
    set_mode(record_dir, "tienda", "ignore_sigterm")
    await wait_connected(side, "tienda")
    pid = side.supervisor.pid("tienda")
    await side.supervisor.stop_bridge("tienda")
    assert not alive(pid)
    events = [r["event"] for r in records(record_dir, "tienda")]
    assert "sigterm" in events and "exit" not in events
    await side.stop()


async def test_delete_stops_the_bridge_and_removes_only_its_session(supervised, record_dir) -> None:
    side = await supervised()
    await side.start(supervise=True)
    await side.add_tenant("borrada")
    await side.add_tenant("queda")
    await wait_connected(side, "borrada")
    await wait_connected(side, "queda")
    gone = side.settings.sessions_dir / "borrada"
    kept = side.settings.sessions_dir / "queda"
    assert (gone / "creds.json").exists() and (kept / "creds.json").exists()
    pid = side.supervisor.pid("borrada")
    await side.tenants.delete("borrada", "telegram:1")
    await eventually(lambda: not gone.exists(), "the session removed")
    assert not alive(pid) and (kept / "creds.json").exists()
    assert side.bridges.is_connected("queda")
    await side.stop()


async def test_session_dirs_cannot_leave_the_sessions_directory(supervised, tmp_path) -> None:
    side = await supervised()
    for slug in ["../etc", "a/../../b", "", ".."]:
        with pytest.raises(BridgeError):
            side.supervisor.session_dir(slug)
    outside = tmp_path / "outside"
    outside.mkdir()
    side.settings.sessions_dir.mkdir(parents=True)
    (side.settings.sessions_dir / "enlace").symlink_to(outside)
    with pytest.raises(BridgeError):
        side.supervisor.session_dir("enlace")


async def test_never_two_processes_for_one_tenant(supervised, record_dir) -> None:
    side = await supervised(shutdown_grace=0.5)
    await side.start(supervise=True)
    await side.add_tenant("tienda")
    await asyncio.gather(*(side.supervisor.ensure_running("tienda") for _ in range(5)),
                         side.supervisor.restart("tienda"), side.supervisor.restart("tienda"))
    await side.tenants.set_enabled("tienda", True, "telegram:1")
    await wait_connected(side, "tienda")
    await side.bus.drain()
    pids = [r["pid"] for r in started(record_dir, "tienda")]
    assert sum(alive(pid) for pid in pids) == 1
    await side.stop()
    assert not any(alive(pid) for pid in pids)


async def test_a_clean_stop_after_qr_timeout_is_not_restarted_until_a_qr_is_asked(supervised, record_dir) -> None:
    side = await supervised()
    await side.start(supervise=True)
    set_mode(record_dir, "tienda", "qr_timeout")
    await side.add_tenant("tienda")
    await side.events.wait_for(Alert, timeout=WAIT, kind=AlertKind.QR_TIMEOUT, tenant="tienda")
    await eventually(lambda: not side.supervisor.is_running("tienda"), "the exit")
    await side.bus.drain()
    assert side.states.get("tienda").state == "stopped" and side.states.get("tienda").reason == "qr_timeout"
    assert len(started(record_dir, "tienda")) == 1
    assert side.metrics.registry.get_sample_value("puente_bridge_restarts_total", {"tenant": "tienda"}) is None

    set_mode(record_dir, "tienda", "waiting_qr")
    await side.login.request_qr("tienda")
    await wait_connected(side, "tienda", count=2)
    assert len(started(record_dir, "tienda")) == 2
    await side.stop()


async def test_request_qr_refuses_a_disabled_tenant(supervised, record_dir) -> None:
    side = await supervised()
    await side.start()
    await side.add_tenant("tienda", enabled=False)
    await side.supervisor.start()
    with pytest.raises(BridgeDisabled, match="disabled"):
        await side.login.request_qr("tienda")
    assert not side.supervisor.is_running("tienda")
    await side.stop()


async def test_a_crash_loop_is_alerted_once(supervised, record_dir) -> None:
    side = await supervised()
    await side.start(supervise=True)
    set_mode(record_dir, "tienda", "crash")
    await side.add_tenant("tienda")
    await eventually(lambda: len(started(record_dir, "tienda")) >= 7, "seven starts")
    await side.supervisor.stop_bridge("tienda")
    await side.bus.drain()
    crash_alerts = side.events.of(Alert, kind=AlertKind.CRASH_LOOP)
    assert len(crash_alerts) == 1 and crash_alerts[0].tenant == "tienda"
    assert side.metrics.registry.get_sample_value("puente_bridge_restarts_total", {"tenant": "tienda"}) >= 6
    await side.stop()


async def test_pairing_code_starts_the_bridge_and_returns_the_code(supervised, record_dir) -> None:
    side = await supervised()
    await side.start(supervise=True)
    set_mode(record_dir, "tienda", "waiting_qr")
    await side.add_tenant("tienda", enabled=True)
    code = await side.login.pairing_code("tienda", "+56 9 1111 2222")
    assert code == "K7Q2M9XZ"
    await side.stop()


async def test_a_qr_asked_for_while_a_stopped_bridge_winds_down_starts_it_again(supervised, record_dir,
                                                                               monkeypatch) -> None:
    # The operator asks for a QR right after a qr_timeout stop: the process has exited, but
    # its loop is still deciding whether the stop is final. The QR must still come (a new
    # bridge), not be dropped because a loop was "active". Held open here at that decision;
    # in CI it happened by timing (a flake of the test above).
    side = await supervised()
    await side.start(supervise=True)
    set_mode(record_dir, "tienda", "qr_timeout")
    deciding, go_on = asyncio.Event(), asyncio.Event()
    decide = side.supervisor._stays_stopped

    async def held_decision(*args):
        deciding.set()
        await go_on.wait()
        return await decide(*args)

    monkeypatch.setattr(side.supervisor, "_stays_stopped", held_decision)
    await side.add_tenant("tienda")
    await asyncio.wait_for(deciding.wait(), WAIT)
    assert not side.supervisor.is_running("tienda")
    set_mode(record_dir, "tienda", "waiting_qr")
    await side.login.request_qr("tienda")
    go_on.set()
    await wait_connected(side, "tienda", count=2)
    assert len(started(record_dir, "tienda")) == 2
    assert side.metrics.registry.get_sample_value("puente_bridge_restarts_total", {"tenant": "tienda"}) is None
    await side.stop()
