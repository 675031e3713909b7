"""Fixtures for the bridge tests: the relay side on a real store and HTTP server."""

from __future__ import annotations

import pytest

from tests.support.bridges import PROCESS_BRIDGE, REPO_ROOT, RelaySide


@pytest.fixture
async def relay(store, clock, tmp_path):
    """Endpoint, registry and states running; no supervisor (bridges are test clients)."""
    side = RelaySide(store, clock, tmp_path / "data")
    await side.start()
    yield side
    await side.stop()


@pytest.fixture
def record_dir(tmp_path, monkeypatch):
    """Where process bridges record what they see (passed through the relay's environment)."""
    path = tmp_path / "records"
    path.mkdir()
    monkeypatch.setenv("FAKE_BRIDGE_RECORD_DIR", str(path))
    monkeypatch.chdir(REPO_ROOT)
    return path


@pytest.fixture
async def supervised(store, clock, tmp_path, record_dir):
    """A factory: the relay side with a supervisor running tests.support.bridge_process."""
    sides: list[RelaySide] = []

    async def make(**options) -> RelaySide:
        options.setdefault("bridge_command", PROCESS_BRIDGE)
        side = RelaySide(store, clock, tmp_path / "data", **options)
        sides.append(side)
        return side

    yield make
    for side in sides:
        await side.stop()
