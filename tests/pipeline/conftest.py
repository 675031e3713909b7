"""Fixtures for the pipeline tests: a relay on loopback with FakeOpenAI and FakeBridge."""

from __future__ import annotations

import pytest

from tests.fakes import FakeOpenAI
from tests.support.pipeline import PipelineRig


@pytest.fixture
async def openai_fake():
    async with FakeOpenAI(hang_seconds=5) as fake:
        yield fake


@pytest.fixture
async def rig(store, clock, openai_fake, tmp_path):
    relay = PipelineRig(store, clock, openai_fake, tmp_path)
    await relay.start()
    yield relay
    await relay.close()
