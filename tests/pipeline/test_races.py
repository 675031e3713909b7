"""The pipeline keeps its promises under real timing: a pause wins the race against a reply
being generated, handoffs run on the messages' own times, an owner's command replayed
after a crash holds, and no turn is answered twice (counted in OpenAI calls too).

The race windows are made wide and deterministic: the fake OpenAI's reply waits on an
event the test sets, or a repository call is wrapped to let the other side land in the
window.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pymongo.errors import AutoReconnect

from relay.chats import PauseKind
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, OWNER_CHAT, PipelineRig

OTHER = "5491144445555"
OTHER_CHAT = f"{OTHER}@s.whatsapp.net"


def texts(bridge, chat):
    return [s["text"] for s in bridge.sent if s["chat"] == chat]


class HeldReply:
    """A fake OpenAI reply that waits until the test releases it ("the bot is typing…")."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def __call__(self, request) -> str:
        self.started.set()
        await self.release.wait()
        return f"Respuesta a: {request.user_text}"


@pytest.fixture
async def fast_rig(store, clock, openai_fake, tmp_path):
    """A rig whose pipeline retries stuck replies and sweeps stranded messages quickly."""
    relay = PipelineRig(store, clock, openai_fake, tmp_path)
    relay.pipeline_options = {"retry_every": 0.2, "sweep_every": 0.3, "sweep_grace": 0.2}
    await relay.start()
    yield relay
    await relay.close()


# --- 1. a pause or an owner's reply while the assistant is generating ----------------


@pytest.mark.parametrize("owner_types", ["pausar", "Ya te atiendo yo, dame un minuto"])
async def test_owner_taking_over_while_the_bot_is_typing_holds_the_bots_reply(rig, owner_types):
    await rig.add_tenant()
    bridge = await rig.connect()
    reply = HeldReply()
    rig.openai.reply = reply
    await bridge.send_message(CUSTOMER, "¿tienen pan sin gluten?")
    await asyncio.wait_for(reply.started.wait(), 5)  # OpenAI is generating; the customer sees "typing…"
    mid = await bridge.send_message(CUSTOMER_CHAT, owner_types, from_me=True)
    await bridge.wait_for_ack(mid)
    await rig.wait_for(lambda: rig.pipeline.inboxes.busy() == 0)
    reply.release.set()
    await rig.idle()
    assert texts(bridge, CUSTOMER_CHAT) == []  # the owner's word is the last one the customer sees
    assert (await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)).paused
    assert rig.openai.responses_created == 1


async def test_bot_suspended_from_the_phone_while_typing_sends_nothing(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    reply = HeldReply()
    rig.openai.reply = reply
    await bridge.send_message(CUSTOMER, "hola")
    await asyncio.wait_for(reply.started.wait(), 5)
    await bridge.wait_for_ack(await bridge.send_message(OWNER_CHAT, "suspender bot", from_me=True))
    await rig.wait_for(lambda: any(t.startswith("⛔") for t in texts(bridge, OWNER_CHAT)))
    reply.release.set()
    await rig.idle()
    assert texts(bridge, CUSTOMER_CHAT) == []


async def test_pause_while_openai_fails_sends_no_fallback_either(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    gate = asyncio.Event()
    started = asyncio.Event()

    async def failing(request):  # a 500 from OpenAI, after the owner has paused the chat
        started.set()
        await gate.wait()
        raise RuntimeError("OpenAI is down")

    rig.openai.reply = failing
    await bridge.send_message(CUSTOMER, "hola")
    await asyncio.wait_for(started.wait(), 5)
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER_CHAT, "pausar", from_me=True))
    await rig.wait_for(lambda: rig.pipeline.inboxes.busy() == 0)
    gate.set()
    await rig.idle()
    assert texts(bridge, CUSTOMER_CHAT) == []  # neither the answer nor "we'll get back to you"


# --- 2. handoff timing on the messages' own times ------------------------------------


async def test_handoff_runs_from_when_the_owner_wrote_not_when_the_relay_saw_it(rig):
    await rig.add_tenant(handoff_hours=2)
    bridge = await rig.connect()
    written = rig.clock.now() - timedelta(hours=3)  # delivered after a 3-hour outage
    mid = await bridge.send_message(CUSTOMER_CHAT, "Hola, soy Ana de la panadería", from_me=True,
                                    timestamp=int(written.timestamp()))
    await bridge.wait_for_ack(mid)
    await rig.idle()
    await bridge.send_message(CUSTOMER, "¿siguen ahí?")  # the handoff expired an hour ago
    sent = await bridge.wait_for_sent(lambda s: s["chat"] == CUSTOMER_CHAT)
    assert sent[0]["text"] == "Respuesta a: ¿siguen ahí?"


async def test_customer_message_written_during_the_handoff_stays_held_when_processed_late(rig):
    await rig.add_tenant(handoff_hours=2)
    bridge = await rig.connect()
    start = rig.clock.now()
    await bridge.wait_for_ack(await bridge.send_message(
        CUSTOMER_CHAT, "Te atiendo yo", from_me=True, timestamp=int(start.timestamp())))
    rig.clock.advance(hours=3)  # the relay sees the customer's message late
    written = start + timedelta(hours=1)  # but it was written while the owner was attending
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER, "gracias", timestamp=int(written.timestamp())))
    await rig.idle()
    assert texts(bridge, CUSTOMER_CHAT) == []


async def test_owner_message_replayed_after_a_crash_keeps_its_own_time(rig, monkeypatch):
    await rig.add_tenant(handoff_hours=2)
    bridge = await rig.connect()
    never = asyncio.Event()

    async def dies_here(*args, **kwargs):  # killed after the ack, before the handoff is recorded
        await never.wait()

    monkeypatch.setattr(rig.pipeline.owner, "handle", dies_here)
    written = rig.clock.now() - timedelta(hours=3)
    mid = await bridge.send_message(CUSTOMER_CHAT, "Hola, soy Ana", from_me=True, timestamp=int(written.timestamp()))
    await bridge.wait_for_ack(mid)
    await bridge.drop()
    monkeypatch.undo()
    await rig.restart()
    await rig.reconnect(bridge)
    await rig.idle()
    chat = await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)
    assert chat.last_owner_at == written.replace(microsecond=0)  # not the time of the replay
    await bridge.send_message(CUSTOMER, "¿hola?")
    sent = await bridge.wait_for_sent(lambda s: s["chat"] == CUSTOMER_CHAT)
    assert sent[0]["text"] == "Respuesta a: ¿hola?"


# --- 3. an owner's pause replayed after a restart holds the messages resent after it ---


async def test_pause_replayed_after_restart_holds_the_messages_the_bridge_resends(rig, monkeypatch):
    await rig.add_tenant()
    bridge = await rig.connect()
    never = asyncio.Event()

    async def dies_here(*args, **kwargs):
        await never.wait()

    monkeypatch.setattr(rig.pipeline.owner, "handle", dies_here)
    mid = await bridge.send_message(CUSTOMER_CHAT, "pausar", from_me=True)
    await bridge.wait_for_ack(mid)  # acked just before the crash: only the store has it now
    await bridge.drop()
    monkeypatch.undo()
    await bridge.send_message(CUSTOMER, "¿me atienden?")  # written after the pause, sent on reconnect
    await rig.restart()
    pause = rig.pipeline.chats.pause

    async def slow_pause(*args, **kwargs):  # the replay takes its time; the resent message is waiting
        await asyncio.sleep(0.5)
        return await pause(*args, **kwargs)

    monkeypatch.setattr(rig.pipeline.chats, "pause", slow_pause)
    await rig.reconnect(bridge)
    await rig.wait_for(lambda: not bridge.unacked)
    await rig.idle()
    assert texts(bridge, CUSTOMER_CHAT) == []
    assert texts(bridge, OWNER_CHAT)[0].startswith("⏸️ Bot pausado en el chat")
    assert rig.openai.responses_created == 0


# --- 4. a transient error applying an owner command ----------------------------------


def fail_first(monkeypatch, owner, name: str, failures: list[Exception]) -> None:
    """`owner.name` raises each of `failures` in turn, then works as before."""
    real = getattr(owner, name)

    async def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return await real(*args, **kwargs)

    monkeypatch.setattr(owner, name, flaky)


async def test_owner_pause_that_meets_a_store_hiccup_is_applied_all_the_same(rig, monkeypatch, caplog):
    await rig.add_tenant()
    bridge = await rig.connect()
    fail_first(monkeypatch, rig.pipeline.chats, "pause", [AutoReconnect("connection reset by peer")])
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER_CHAT, "pausar", from_me=True))
    await rig.idle()
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER, "¿hola?"))
    await rig.idle()
    assert texts(bridge, CUSTOMER_CHAT) == []
    assert texts(bridge, OWNER_CHAT)[0].startswith("⏸️ Bot pausado en el chat")


async def test_owner_command_failing_for_a_while_is_kept_pending_and_applied_by_the_sweep(fast_rig, monkeypatch):
    rig = fast_rig
    await rig.add_tenant()
    bridge = await rig.connect()
    fail_first(monkeypatch, rig.pipeline.chats, "pause", [AutoReconnect("store restarting")] * 3)  # > retries
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER_CHAT, "pausar", from_me=True))
    await rig.wait_for(lambda: texts(bridge, OWNER_CHAT), timeout=5)
    assert texts(bridge, OWNER_CHAT)[0].startswith("⏸️ Bot pausado en el chat")
    assert (await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)).paused


# --- 5. resuming a handoff is conditional ---------------------------------------------


async def test_pausar_landing_while_an_expired_handoff_is_resumed_is_not_wiped(rig, monkeypatch):
    await rig.add_tenant(handoff_hours=2)
    bridge = await rig.connect()
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER_CHAT, "Te atiendo yo", from_me=True))
    await rig.idle()
    rig.clock.advance(hours=3)  # the handoff has expired
    touch = rig.pipeline.chats.touch_customer

    async def owner_pauses_right_after_the_read(*args, **kwargs):
        result = await touch(*args, **kwargs)
        await rig.pipeline.chats.pause("panaderia", CUSTOMER_CHAT, PauseKind.MANUAL, rig.clock.now())
        return result

    monkeypatch.setattr(rig.pipeline.chats, "touch_customer", owner_pauses_right_after_the_read)
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER, "¿hola?"))
    await rig.idle()
    monkeypatch.undo()
    chat = await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)
    assert chat.paused and chat.pause_kind.value == "manual"
    assert texts(bridge, CUSTOMER_CHAT) == []


# --- 6. a bridge reconnecting during recovery ------------------------------------------


async def test_bridge_reconnecting_during_recovery_asks_openai_once_per_turn(rig, monkeypatch):
    await rig.add_tenant()
    bridge = await rig.connect()
    reply = HeldReply()
    rig.openai.reply = reply
    chats = [f"54911000{n:05d}" for n in range(12)]
    for phone in chats:
        await bridge.wait_for_ack(await bridge.send_message(phone, f"pedido de {phone}"))
    await asyncio.wait_for(reply.started.wait(), 5)
    await bridge.stop()  # the relay dies with twelve turns at OpenAI
    await rig.restart()
    rig.openai.reply = lambda request: f"Respuesta a: {request.user_text}"
    rig.openai.latency = 0.05
    pending = rig.pipeline.messages.pending

    async def slow_pending(*args, **kwargs):  # the backlog read takes a while, as on a big store
        found = await pending(*args, **kwargs)
        await asyncio.sleep(0.3)
        return found

    monkeypatch.setattr(rig.pipeline.messages, "pending", slow_pending)
    fresh = await rig.connect()
    await fresh.wait_for_sent(count=3)
    await fresh.drop()  # the bridge drops and comes back while the backlog is being answered
    await rig.reconnect(fresh)
    await fresh.drop()
    await rig.reconnect(fresh)
    await fresh.wait_for_sent(count=len(chats))
    await rig.idle()
    assert sorted(s["chat"] for s in fresh.sent) == sorted(f"{p}@s.whatsapp.net" for p in chats)
    assert rig.openai.responses_created == len(chats)  # one answer per turn (the cut-short ones never completed)


# --- 7 and 8. sends that time out or fail ----------------------------------------------


def two_parts(request) -> str:
    return ("A" * 3000) + "\n\n" + ("B" * 3000) if "largo" in request.user_text else f"Respuesta a: {request.user_text}"


async def test_a_send_that_times_out_is_retried_and_later_replies_wait_their_turn(fast_rig):
    rig = fast_rig
    await rig.add_tenant()
    bridge = await rig.connect()
    rig.openai.reply = two_parts
    bridge.lose_results = 1  # the first part goes out but its result never arrives
    await bridge.send_message(CUSTOMER, "contame algo largo")
    await bridge.wait_for_sent(count=1)
    await bridge.send_message(CUSTOMER, "¿y el precio?")  # answered while part two is stuck
    await bridge.wait_for_sent(count=3, timeout=10)
    await rig.idle()
    assert [t[:1] for t in texts(bridge, CUSTOMER_CHAT)] == ["A", "B", "R"]  # in order, nothing overtakes
    assert texts(bridge, CUSTOMER_CHAT)[2] == "Respuesta a: ¿y el precio?"


async def test_an_unknown_send_error_is_retried_not_dropped(fast_rig):
    rig = fast_rig
    await rig.add_tenant()
    bridge = await rig.connect()
    bridge.send_errors = ["Connection Closed"]  # what Baileys throws when the socket drops mid-send
    await bridge.send_message(CUSTOMER, "hola")
    sent = await bridge.wait_for_sent(timeout=5)
    assert [s["text"] for s in sent] == ["Respuesta a: hola"]
    assert [f["error"] for f in bridge.failed_sends] == ["Connection Closed"]


async def test_a_send_of_unknown_outcome_is_alerted_and_never_doubled(fast_rig):
    rig = fast_rig
    await rig.add_tenant()
    bridge = await rig.connect()
    bridge.send_errors = ["outcome_unknown"]  # the bridge restarted mid-send (bridge.mjs, ledger 'unfinished')
    await bridge.send_message(CUSTOMER, "hola")
    await rig.wait_for(lambda: any(a.kind.value == "send_uncertain" for a in rig.alerts))
    await asyncio.sleep(0.5)  # a few retry rounds
    await rig.idle()
    assert len(bridge.failed_sends) == 1 and bridge.sent == []
    assert await rig.pipeline.outbox.waiting("panaderia") == []


async def test_a_send_the_bridge_cannot_read_is_dropped_and_alerted(fast_rig):
    rig = fast_rig
    await rig.add_tenant()
    bridge = await rig.connect()
    bridge.send_errors = ["invalid_frame: text must be a string"]
    await bridge.send_message(CUSTOMER, "hola")
    await rig.wait_for(lambda: any(a.kind.value == "send_failed" for a in rig.alerts))
    await rig.idle()
    assert len(bridge.failed_sends) == 1 and bridge.sent == []


# --- 9. a failure after the ack ---------------------------------------------------------


async def test_a_message_stranded_after_its_ack_is_answered_by_the_sweep(fast_rig, monkeypatch):
    rig = fast_rig
    await rig.add_tenant()
    bridge = await rig.connect()
    add = rig.pipeline.lanes.add
    failures = [RuntimeError("lost on the way to its lane")]

    def flaky_add(*args, **kwargs):
        if failures:
            raise failures.pop()
        return add(*args, **kwargs)

    monkeypatch.setattr(rig.pipeline.lanes, "add", flaky_add)
    await bridge.wait_for_ack(await bridge.send_message(CUSTOMER, "hola"))
    sent = await bridge.wait_for_sent(timeout=5)
    await rig.idle()
    assert [s["text"] for s in sent] == ["Respuesta a: hola"]
    assert rig.openai.responses_created == 1


# --- 11. one tenant's slow bridge -------------------------------------------------------


async def test_a_slow_bridge_does_not_delay_another_tenants_messages(rig):
    await rig.add_tenant("lenta")
    await rig.add_tenant("rapida")
    slow = await rig.connect("lenta", auto_result=False)  # answers no command: each waits for its timeout
    fast = await rig.connect("rapida")
    for _ in range(3):  # confirmations and deletions that the slow bridge never answers
        await slow.send_message(CUSTOMER_CHAT, "estado", from_me=True)
    await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await fast.wait_for_ack(await fast.send_message(CUSTOMER, "hola"), timeout=5)
    assert loop.time() - started < 0.5
    await fast.wait_for_sent(timeout=5)


async def test_a_flooding_bridge_is_bounded_and_loses_nothing(store, clock, openai_fake, tmp_path, monkeypatch):
    rig = PipelineRig(store, clock, openai_fake, tmp_path)
    rig.pipeline_options = {"inbox_messages": 5}
    await rig.start()
    try:
        await rig.add_tenant()
        bridge = await rig.connect(run_forever=True)
        record = rig.pipeline.messages.record

        async def slow_record(*args, **kwargs):
            await asyncio.sleep(0.02)
            return await record(*args, **kwargs)

        monkeypatch.setattr(rig.pipeline.messages, "record", slow_record)
        phones = [f"54911000{n:05d}" for n in range(30)]
        for phone in phones:
            await bridge.send_message(phone, f"hola de {phone}")
        await bridge.changes.wait_until(lambda: len(bridge.sent) >= len(phones), 20, "every reply")
        await rig.idle()
        assert sorted(s["chat"] for s in bridge.sent) == sorted(f"{p}@s.whatsapp.net" for p in phones)
        assert bridge.connections > 1  # the relay asked it to resend what did not fit
        assert rig.openai.responses_created == len(phones)
    finally:
        await rig.close()
