"""A tenant with a key the fake OpenAI accepts, and the knowledge service talking to it."""

from __future__ import annotations

import pytest

from tenants.knowledge import Knowledge, open_knowledge
from tenants.service import NewTenant
from tests.fakes import FakeOpenAI
from tests.fakes.openai_files import OpenAIFiles

KEY = "sk-test-knowledge-0123456789abcdef"
SLUG = "tienda-sol"


@pytest.fixture
async def fake_openai():
    fake = FakeOpenAI()
    fake.files = OpenAIFiles(fake)
    async with fake:
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
