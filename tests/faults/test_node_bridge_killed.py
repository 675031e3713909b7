"""The real Node bridge (on its fake WhatsApp socket) is killed with SIGKILL while its
customers write, and the supervisor starts it again on the same session: every message
gets exactly one reply as the customer sees it, none twice."""

from __future__ import annotations

import os
import signal

import pytest

from tests.fakes import FakeOpenAI
from tests.support.faults import (
    FaultWorld,
    chat_jid,
    customer_phone,
    delivered_by_chat,
    message_text,
    openai_problems,
    reply_problems,
    wait_until,
)
from tests.support.node_bridge import COMMAND, act, sent

TENANTS = ("nodo-uno", "nodo-dos")
CHATS, PER_CHAT = 5, 3  # 30 messages

pytestmark = pytest.mark.usefixtures("node_bridge_installed")


async def test_node_bridge_killed_mid_stream_loses_and_repeats_no_reply(tmp_path, monkeypatch):
    monkeypatch.setenv("PUENTE_SEND_GAP_MS", "0-0")
    async with FaultWorld(tmp_path, openai=FakeOpenAI(latency=0.5), bridge_command=COMMAND) as world:
        puente = world.puente
        for t, slug in enumerate(TENANTS):
            await world.add_tenant(slug)  # the supervisor starts its bridge
        for t, slug in enumerate(TENANTS):
            await wait_until(lambda s=slug: puente.states.get(s).state == "waiting_qr", 20, f"{slug} QR")
            act(world, slug, op="open", phone=f"5693000000{t}", name="Tienda")
        for slug in TENANTS:
            await wait_until(lambda s=slug: puente.states.get(s).state == "connected"
                             and puente.bridges.is_connected(s), 10, f"{slug} connected")

        expected = {slug: {chat_jid(customer_phone(t, c)): [] for c in range(CHATS)} for t, slug in enumerate(TENANTS)}
        ids = {slug: [] for slug in TENANTS}

        def write(n: int) -> None:
            for t, slug in enumerate(TENANTS):
                for c in range(CHATS):
                    text = message_text(slug, c, n)
                    mid = f"N{t}C{c}M{n}"
                    act(world, slug, op="message", id=mid, chat=chat_jid(customer_phone(t, c)), text=text,
                        push_name="Cliente")
                    expected[slug][chat_jid(customer_phone(t, c))].append(text)
                    ids[slug].append(mid)

        async def recorded(slug: str) -> bool:
            return await puente.pipeline.messages.recorded(slug, ids[slug]) == set(ids[slug])

        victim = TENANTS[0]
        write(0)
        write(1)
        await wait_until(lambda: recorded(victim), 10, "the relay has the messages")
        first_pid = puente.supervisor.pid(victim)
        os.kill(first_pid, signal.SIGKILL)  # turns at OpenAI, replies on their way
        sent_before = len(sent(world, victim))
        await wait_until(lambda: puente.supervisor.pid(victim) not in (None, first_pid)
                         and puente.bridges.is_connected(victim)
                         and puente.states.get(victim).state == "connected", 20, "the bridge back")
        write(2)

        def problems() -> list[str]:
            return [p for slug in TENANTS for p in reply_problems(expected[slug], delivered_by_chat(sent(world, slug)))]

        await wait_until(lambda: not problems(), 15, lambda: f"every message answered once: {problems()}")
        await world.quiet()
        assert problems() == []
        written = [text for chats in expected.values() for texts in chats.values() for text in texts]
        assert openai_problems(world.openai.response_requests, written) == []
        assert sent_before < CHATS * 2  # the kill was mid-stream
        assert puente.metrics.bridge_restarts.labels(victim)._value.get() == 1


async def test_a_reply_refused_with_not_connected_is_sent_once_whatsapp_is_back(tmp_path):
    # What the Node bridge does right after a restart: the relay link is up, WhatsApp is
    # not yet, and a `send` is answered `ok: false, error: "not_connected"` (README: "not
    # recorded, so the relay may retry the same ref").
    async with FaultWorld(tmp_path) as world:
        await world.add_tenant("tienda")
        bridge = await world.connect("tienda", auto_result=False)
        await bridge.send_status("reconnecting")
        await bridge.send_message("56911110000", "hola")
        send = await bridge.wait_for_frame("send")
        bridge.held_results.clear()
        bridge.forget_send(send["ref"])  # WhatsApp was down: nothing went out under that ref
        await bridge.raw({"type": "result", "ref": send["ref"], "ok": False, "error": "not_connected"})
        bridge.auto_result = True
        await bridge.send_status("connected", phone="56900000000")  # WhatsApp is back
        sent = await bridge.wait_for_sent(timeout=5)
        assert [s["text"] for s in sent] == ["Respuesta a: hola"]
