"""A tenant with a key the fake OpenAI accepts, and the knowledge service talking to it."""

from __future__ import annotations

import pytest

from tenants.knowledge import Knowledge, open_knowledge
from tenants.service import NewTenant
from tests.fakes import FakeOpenAI

KEY = "sk-test-knowledge-0123456789abcdef"
SLUG = "tienda-sol"


@pytest.fixture
async def fake_openai():
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def knowledge_repo(store):
    repo = open_knowledge(store.db)
    await repo.ensure_indexes()
    return repo


@pytest.fixture
async def knowledge(knowledge_repo, tenants, clock, fake_openai) -> Knowledge:
    await tenants.create(NewTenant(slug=SLUG, name="Tienda Sol", openai_key=KEY), actor="admin:1")
    return Knowledge(knowledge_repo, tenants, clock, base_url=f"{fake_openai.url}/v1", poll_interval=0.01,
                     poll_timeout=2.0)


@pytest.fixture
async def rig(store, clock, tmp_path):
    """A relay on loopback (tests/support/pipeline.py) with its knowledge service."""
    from tests.support.pipeline import PipelineRig

    async with FakeOpenAI(hang_seconds=5) as fake:
        relay = PipelineRig(store, clock, fake, tmp_path)
        await relay.start()
        yield relay
        await relay.close()
