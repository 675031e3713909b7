"""A relay restart loses no reply and sends none twice."""

from __future__ import annotations

import asyncio

from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, OWNER_CHAT


async def test_reply_in_the_outbox_is_resent_with_the_same_ref_and_seen_once(rig):
    await rig.add_tenant()
    bridge = await rig.connect(auto_result=False)  # the bridge sends but its result never arrives
    await bridge.send_message(CUSTOMER, "hola")
    first = await bridge.wait_for_sent()
    await bridge.drop()
    await rig.wait_for(lambda: not rig.bridges.is_connected("panaderia"))
    await rig.idle()
    assert [o.ref for o in await rig.pipeline.outbox.waiting("panaderia")] == [first[0]["ref"]]

    await rig.restart()
    bridge.auto_result = True
    await rig.reconnect(bridge)
    sends = lambda: [f["ref"] for f in bridge.received if f.get("type") == "send"]
    await rig.wait_for(lambda: sends() == [first[0]["ref"]] * 2)  # resent with the same ref
    await rig.idle()
    await rig.wait_for_outbox_empty("panaderia")
    assert [s["text"] for s in bridge.sent] == ["Respuesta a: hola"]  # one reply for the customer
    assert rig.openai.responses_created == 1


async def test_message_acked_but_unanswered_before_a_restart_is_answered_after_it(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    rig.openai.latency = 3  # the relay dies while OpenAI is thinking
    mid = await bridge.send_message(CUSTOMER, "¿abren el domingo?")
    await bridge.wait_for_ack(mid)
    await bridge.wait_for_frame("typing", lambda f: f["state"] == "composing")  # OpenAI is thinking
    await bridge.stop()
    await rig.restart()
    rig.openai.latency = 0
    fresh = await rig.connect()
    sent = await fresh.wait_for_sent()
    assert [s["text"] for s in sent] == ["Respuesta a: ¿abren el domingo?"]
    assert sent[0]["chat"] == CUSTOMER_CHAT


async def test_reply_sent_while_the_bridge_is_away_waits_in_the_outbox(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    rig.openai.latency = 0.3
    await bridge.send_message(CUSTOMER, "hola")
    await bridge.wait_for_frame("typing", lambda f: f["state"] == "composing")  # OpenAI is thinking
    await bridge.drop()
    await rig.wait_for(lambda: not rig.bridges.is_connected("panaderia"))
    await rig.idle()
    assert bridge.sent == []
    await rig.reconnect(bridge)
    sent = await bridge.wait_for_sent()
    assert [s["text"] for s in sent] == ["Respuesta a: hola"]


async def test_relay_dying_right_after_queueing_a_reply_asks_openai_once(rig, monkeypatch):
    await rig.add_tenant()
    bridge = await rig.connect()
    never = asyncio.Event()

    async def dies_here(*args, **kwargs):  # the process is killed right after the reply is queued
        await never.wait()

    monkeypatch.setattr(rig.pipeline.sender, "deliver", dies_here)
    await bridge.send_message(CUSTOMER, "hola")
    await rig.wait_for_outbox_entries("panaderia", 1)
    await bridge.drop()
    monkeypatch.undo()
    await rig.restart()
    await rig.reconnect(bridge)
    await rig.wait_for_outbox_empty("panaderia")
    await rig.idle()
    # The outbox's reply answers "hola"; the pending record must not start a second turn,
    # which with a real model would be a second, different answer under a new ref once
    # it merged with the customer's next message.
    assert [s["text"] for s in bridge.sent] == ["Respuesta a: hola"]
    assert rig.openai.responses_created == 1
    await bridge.send_message(CUSTOMER, "¿y mañana?")
    await bridge.wait_for_sent(count=2)
    assert [s["text"] for s in bridge.sent] == ["Respuesta a: hola", "Respuesta a: ¿y mañana?"]


async def test_owner_pause_acked_just_before_a_crash_still_holds_after_the_restart(rig, monkeypatch):
    await rig.add_tenant()
    bridge = await rig.connect()
    never = asyncio.Event()

    async def dies_here(*args, **kwargs):  # the process is killed after the ack, before the pause
        await never.wait()

    monkeypatch.setattr(rig.pipeline.owner, "handle", dies_here)
    mid = await bridge.send_message(CUSTOMER_CHAT, "pausar", from_me=True)
    await bridge.wait_for_ack(mid)  # acked: the bridge will never send it again
    await bridge.drop()
    monkeypatch.undo()
    await rig.restart()
    await rig.reconnect(bridge)
    await rig.wait_for(lambda: any(s["chat"] == OWNER_CHAT for s in bridge.sent))
    customer = await bridge.send_message(CUSTOMER, "¿hola?")
    await bridge.wait_for_ack(customer)
    await rig.idle()
    assert len(bridge.sent) == 1 and bridge.sent[0]["text"].startswith("⏸️ Bot pausado en el chat")  # no reply
    assert (await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)).paused
    await rig.restart()  # applied and settled: not applied (nor confirmed) a second time
    await rig.reconnect(bridge)
    await rig.idle()
    assert len(bridge.sent) == 1
