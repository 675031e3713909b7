"""One tenant's bridge floods the relay with thousands of malformed, unknown and oversized
frames (reconnecting each time the relay closes it) while the other tenants' customers
keep writing: they are answered on time, each message once."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.fakes import FakeOpenAI
from tests.support.bridges import connect_raw, hello
from tests.support.faults import (
    PREFIX, FaultWorld, chat_jid, customer_phone, delivered_by_chat, message_text, reply_problems,
)

GOOD = ("bien-uno", "bien-dos")
NOISY = "ruidoso"
CHATS, PER_CHAT = 3, 4  # 24 messages of good customers
MAX_LATENCY = 2.0
OVERSIZED = 20 * 1024 * 1024 + 16


def bad_frames(round_no: int) -> list[str]:
    """What one flooding connection sends after its hello: junk first, then a frame that
    gets it closed (the relay must survive each kind)."""
    junk = []
    for i in range(400):
        kind = i % 4
        if kind == 0:
            junk.append(json.dumps({"type": f"bogus-{i}", "x": "y" * 100}))  # unknown type: ignored
        elif kind == 1:
            junk.append(json.dumps({"type": "status", "state": "connected", "at": "2024-01-01T00:00:00Z",
                                    "extra": list(range(50))}))
        elif kind == 2:
            junk.append(json.dumps({"type": "result", "ref": f"nobody-{i}", "ok": True}))
        else:
            junk.append(json.dumps({"type": "typing-" + "\u202e" * 20}))
    closer = [
        "{not json",
        json.dumps({"type": "message", "id": 5}),  # a message frame without its fields
        json.dumps([1, 2, 3]),
        "\x00\x01\x02",
    ][round_no % 4]
    return junk + [closer]


async def flood(url: str, slug: str, token: str, stop: asyncio.Event, stats: dict[str, int]) -> None:
    round_no = 0
    while not stop.is_set():
        session, ws = await connect_raw(url, slug, token)
        try:
            await ws.send_str(hello(slug))
            await ws.receive(timeout=5)  # welcome
            if round_no % 5 == 4:
                stats["oversized"] += 1
                await ws.send_str("x" * OVERSIZED)  # over MAX_FRAME_BYTES: the relay cuts it off
            else:
                for n, frame in enumerate(bad_frames(round_no)):
                    await ws.send_str(frame)
                    stats["frames"] += 1
                    if n % 100 == 0:
                        await asyncio.sleep(0)
            msg = await ws.receive(timeout=5)
            while msg.type == aiohttp.WSMsgType.TEXT:  # status echoes etc.
                msg = await ws.receive(timeout=5)
            stats["closed"] += 1
            stats.setdefault("codes", set()).add(ws.close_code)
        except (aiohttp.ClientError, ConnectionError, TimeoutError):
            stats["errors"] += 1
        finally:
            await ws.close()
            await session.close()
        round_no += 1


async def customer(bridge, slug: str, t: int, c: int, latencies: list[float]) -> list[str]:
    loop = asyncio.get_running_loop()
    texts = []
    for n in range(PER_CHAT):
        text = message_text(slug, c, n)
        started = loop.time()
        await bridge.send_message(customer_phone(t, c), text)
        await bridge.wait_for_sent(lambda s, text=text: s["text"] == PREFIX + text, timeout=10)
        latencies.append(loop.time() - started)
        texts.append(text)
    return texts


async def test_a_flooding_bridge_does_not_delay_other_tenants(tmp_path):
    async with FaultWorld(tmp_path, openai=FakeOpenAI()) as world:
        bridges = {}
        for slug in GOOD:
            await world.add_tenant(slug)
            bridges[slug] = await world.connect(slug)
        await world.add_tenant(NOISY)
        token = await world.puente.tenants.issue_bridge_token(NOISY)

        stop = asyncio.Event()
        stats = {"frames": 0, "oversized": 0, "closed": 0, "errors": 0}
        flooding = asyncio.create_task(flood(world.bridge_url, NOISY, token, stop, stats))
        await asyncio.sleep(0.3)  # the flood is on
        latencies: list[float] = []
        jobs = {(slug, t, c): asyncio.create_task(customer(bridges[slug], slug, t, c, latencies))
                for t, slug in enumerate(GOOD) for c in range(CHATS)}
        try:
            await asyncio.gather(*jobs.values())
            while stats["frames"] < 3000 or stats["oversized"] < 1:  # thousands, whatever the speed
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            await flooding
        await world.quiet()

        for t, slug in enumerate(GOOD):
            expected = {chat_jid(customer_phone(t, c)): jobs[(slug, t, c)].result() for c in range(CHATS)}
            assert reply_problems(expected, delivered_by_chat(bridges[slug].sent)) == []
        assert max(latencies) < MAX_LATENCY, sorted(latencies)[-5:]
        assert stats["frames"] >= 3000 and stats["oversized"] >= 1
        assert stats["codes"] <= {4400, 1009}, stats  # protocol error or message too big, nothing else
        assert world.puente.bridges.is_connected(GOOD[0]) and world.puente.bridges.is_connected(GOOD[1])
