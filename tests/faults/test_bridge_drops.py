"""The bridges' WebSockets drop every few hundred milliseconds while customers write:
every message still gets exactly one reply, none twice, none lost."""

from __future__ import annotations

import asyncio
import random

from tests.fakes import FakeOpenAI
from tests.support.faults import (
    FaultWorld, chat_jid, customer_phone, delivered_by_chat, message_text, openai_problems, reply_problems,
    wait_until,
)

TENANTS = ("drop-uno", "drop-dos", "drop-tres")
CHATS, PER_CHAT = 4, 5  # 60 messages


async def customer(bridge, slug: str, tenant_no: int, chat_no: int, rng: random.Random) -> list[str]:
    phone = customer_phone(tenant_no, chat_no)
    texts = []
    for n in range(PER_CHAT):
        text = message_text(slug, chat_no, n)
        await bridge.send_message(phone, text)  # kept and resent until acked, even while away
        texts.append(text)
        await asyncio.sleep(rng.uniform(0.05, 0.25))
    return texts


async def test_every_message_is_answered_once_while_bridges_keep_dropping(tmp_path):
    rng = random.Random(3)
    async with FaultWorld(tmp_path, openai=FakeOpenAI(latency=0.05)) as world:
        bridges = {}
        for slug in TENANTS:
            await world.add_tenant(slug)
            bridges[slug] = await world.connect(slug, run_forever=True, backoff=(0.02, 0.1))

        stop = asyncio.Event()
        drops = 0

        async def dropper() -> None:
            nonlocal drops
            while not stop.is_set():
                await asyncio.sleep(rng.uniform(0.2, 0.4))
                await bridges[rng.choice(TENANTS)].drop()
                drops += 1

        dropping = asyncio.create_task(dropper())
        jobs = {(slug, t, c): asyncio.create_task(customer(bridges[slug], slug, t, c, rng))
                for t, slug in enumerate(TENANTS) for c in range(CHATS)}
        await asyncio.gather(*jobs.values())
        expected = {slug: {} for slug in TENANTS}
        for (slug, t, c), job in jobs.items():
            expected[slug][chat_jid(customer_phone(t, c))] = job.result()

        def problems() -> list[str]:
            return [p for slug in TENANTS
                    for p in reply_problems(expected[slug], delivered_by_chat(bridges[slug].sent))]

        await asyncio.sleep(1.0)  # a few more drops while the last replies go out
        stop.set()
        await dropping
        await wait_until(lambda: not problems(), 20, lambda: f"every message answered once: {problems()}")
        await world.quiet()
        assert problems() == []
        # Exactly once includes OpenAI: each customer text was answered by one call.
        written = [text for chats in expected.values() for texts in chats.values() for text in texts]
        assert openai_problems(world.openai.response_requests, written) == []
        assert drops >= 5
        assert sum(b.connections for b in bridges.values()) > len(TENANTS) + 4  # they really reconnected
        for bridge in bridges.values():  # the relay acked everything in the end
            await wait_until(lambda b=bridge: not b.unacked, 5, "all messages acked")
