"""The admin bot rig for every bot test."""

from __future__ import annotations

import pytest

from tests.support.bot import BotRig


@pytest.fixture
async def rig(store, tmp_path):
    rig = BotRig(store, tmp_path / "data")
    await rig.start()
    yield rig
    await rig.stop()
