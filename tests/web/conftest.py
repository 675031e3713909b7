"""Fixtures for the landing-page, invite and ops tests."""

from __future__ import annotations

import aiohttp
import pytest

from tests.support.web import LandingRig


@pytest.fixture
async def rig(store, clock):
    async with LandingRig(store, clock) as running:
        yield running


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session
