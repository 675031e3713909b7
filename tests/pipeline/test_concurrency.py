"""Chats are answered concurrently, but never more at once than the tenant's and the
relay's limits allow: one noisy tenant cannot take every OpenAI slot."""

from __future__ import annotations

import asyncio

from tests.support.pipeline import KEY


class Gauge:
    """A fake model that takes a while and counts how many turns it answers at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    async def reply(self, request) -> str:
        self.now += 1
        self.peak = max(self.peak, self.now)
        await asyncio.sleep(0.3)
        self.now -= 1
        return "Respuesta a: " + request.user_text


async def test_one_tenant_answers_chats_concurrently_up_to_its_limit(rig):
    gauge = Gauge()
    rig.openai.reply = gauge.reply
    rig.pipeline_options = {"max_per_tenant": 2, "max_total": 10}
    await rig.restart()
    await rig.add_tenant()
    bridge = await rig.connect()
    for n in range(5):
        await bridge.send_message(f"56900000{n:03d}", f"hola {n}")
    sent = await bridge.wait_for_sent(count=5, timeout=10)
    assert sorted(s["text"] for s in sent) == [f"Respuesta a: hola {n}" for n in range(5)]
    assert gauge.peak == 2


async def test_all_tenants_together_stay_within_the_relay_limit(rig):
    gauge = Gauge()
    rig.openai.reply = gauge.reply
    rig.pipeline_options = {"max_per_tenant": 3, "max_total": 4}
    await rig.restart()
    bridges = []
    for slug in ("panaderia", "ferreteria"):
        await rig.add_tenant(slug, key=KEY.replace("panaderia", slug))
        bridges.append(await rig.connect(slug))
    for bridge in bridges:
        for n in range(3):
            await bridge.send_message(f"56911111{n:03d}", f"hola {n}")
    for bridge in bridges:
        sent = await bridge.wait_for_sent(count=3, timeout=10)
        assert sorted(s["text"] for s in sent) == [f"Respuesta a: hola {n}" for n in range(3)]
    assert gauge.peak == 4
