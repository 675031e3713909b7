"""OpenAI fails 30% of the calls (500s and timeouts) and takes 2 s on the others: every
customer message gets exactly one answer, or its chat gets the fallback text (once: the
fallback is sent at most hourly per chat); nothing is answered twice or silently lost."""

from __future__ import annotations

import asyncio
import functools

import pytest

import relay.pipeline.pipeline as pipeline_module
from relay.assistant import OpenAIClients
from tests.fakes import FakeOpenAI
from tests.support.faults import (
    FALLBACK, FaultWorld, chat_jid, customer_phone, delivered_by_chat, message_text, reply_problems, wait_until,
)

TENANTS = ("lento-uno", "lento-dos")
CHATS, PER_CHAT = 5, 3  # 30 messages
CLIENT_TIMEOUT = 3.0  # above the 2 s latency, below the 6 s hang of an injected timeout


@pytest.fixture
def short_openai_timeouts(monkeypatch):
    # Puente builds its clients with the production 60 s timeout; the fault here is the
    # same, only shorter, so the test stays bounded.
    monkeypatch.setattr(pipeline_module, "OpenAIClients",
                        functools.partial(OpenAIClients, timeout=CLIENT_TIMEOUT, connect_timeout=1.0))


async def test_flaky_slow_openai_answers_each_message_once_or_with_the_fallback(tmp_path, short_openai_timeouts):
    openai = FakeOpenAI(latency=2.0, hang_seconds=6.0, failure_rate=0.3, failure_kinds=("500", "timeout"), seed=7)
    async with FaultWorld(tmp_path, openai=openai) as world:
        bridges = {}
        for slug in TENANTS:
            await world.add_tenant(slug)
            bridges[slug] = await world.connect(slug)
        expected: dict[str, dict[str, list[str]]] = {slug: {} for slug in TENANTS}
        ids: dict[str, str] = {}
        for n in range(PER_CHAT):
            for t, slug in enumerate(TENANTS):
                for c in range(CHATS):
                    text = message_text(slug, c, n)
                    ids[await bridges[slug].send_message(customer_phone(t, c), text)] = text
                    expected[slug].setdefault(chat_jid(customer_phone(t, c)), []).append(text)
            await asyncio.sleep(0.3)

        async def problems() -> list[str]:
            out = []
            for slug in TENANTS:
                failed = {ids[i] for i in await _failed(world, slug)}
                out += reply_problems(expected[slug], delivered_by_chat(bridges[slug].sent), failed=failed)
            return out

        async def settled() -> bool:
            return not await world.puente.pipeline.messages.pending_count()

        await wait_until(settled, 45, "every message answered or given up")
        await world.quiet(timeout=20)
        assert await problems() == []
        injected = [kind for endpoint, kind in openai.failures if endpoint == "responses"]
        assert "500" in injected and "timeout" in injected  # both faults really happened
        answered = sum(t.startswith("Respuesta") for b in bridges.values() for t in (s["text"] for s in b.sent))
        assert answered >= len(TENANTS) * CHATS  # most turns got through the retries
        fallbacks = sum(s["text"] == FALLBACK for b in bridges.values() for s in b.sent)
        failed_total = sum([len(await _failed(world, slug)) for slug in TENANTS])
        assert (fallbacks == 0) == (failed_total == 0)


async def _failed(world: FaultWorld, slug: str) -> set[str]:
    return await world.puente.pipeline.messages.failed_ids(slug)
