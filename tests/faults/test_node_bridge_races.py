"""Two of the pipeline's races, through the real Node bridge on its fake WhatsApp socket
(the control file of bridge_node/src/fake_socket.mjs) and the whole in-process Puente: the
owner taking over while the bot is typing, and one tenant's slow WhatsApp sending not
delaying another tenant's customers."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes import FakeOpenAI
from tests.support.faults import FaultWorld, wait_until
from tests.support.node_bridge import MAIN, NODE, act, sent

# The tenant `lenta` sends with a 3-second gap between texts (the bridge's anti-ban pacing,
# PUENTE_SEND_GAP_MS); every other tenant at once.
COMMAND = (
    "sh -c 'PUENTE_FAKE_SOCKET=\"$PUENTE_SESSION_DIR/control.jsonl\"; export PUENTE_FAKE_SOCKET; "
    "if [ \"$PUENTE_TENANT\" = lenta ]; then PUENTE_SEND_GAP_MS=3000-3000; else PUENTE_SEND_GAP_MS=0-0; fi; "
    f"export PUENTE_SEND_GAP_MS; exec {NODE} {MAIN}'"
)
CUSTOMER = "56977770000@s.whatsapp.net"
WAIT = 20

pytestmark = pytest.mark.usefixtures("node_bridge_installed")


async def linked(world: FaultWorld, slug: str, phone: str) -> None:
    puente = world.puente
    await world.add_tenant(slug)
    await wait_until(lambda: puente.states.get(slug).state == "waiting_qr", WAIT, f"{slug} QR")
    act(world, slug, op="open", phone=phone, name=slug.title())
    await wait_until(lambda: puente.states.get(slug).state == "connected" and puente.bridges.is_connected(slug),
                     WAIT, f"{slug} connected")


async def test_owner_pause_while_the_bot_is_typing_holds_the_reply_on_the_real_bridge(tmp_path):
    release, started = asyncio.Event(), asyncio.Event()

    async def held_reply(request) -> str:
        started.set()
        await release.wait()
        return f"Respuesta a: {request.user_text}"

    async with FaultWorld(tmp_path, openai=FakeOpenAI(reply=held_reply), bridge_command=COMMAND) as world:
        owner = "56900001111"
        await linked(world, "tienda", owner)
        act(world, "tienda", op="message", id="C1", chat=CUSTOMER, sender=CUSTOMER, text="¿tienen delivery?",
            kind="text", push_name="Ana")
        await asyncio.wait_for(started.wait(), WAIT)  # the customer sees "typing…"
        act(world, "tienda", op="message", id="O1", chat=CUSTOMER, sender=f"{owner}@s.whatsapp.net", from_me=True,
            text="pausar", kind="text")

        async def paused() -> bool:
            chat = await world.puente.pipeline.chats.get("tienda", CUSTOMER)
            return chat is not None and chat.paused

        await wait_until(paused, WAIT, "the owner's pause applied")
        release.set()
        await wait_until(lambda: any(s["chat"] == f"{owner}@s.whatsapp.net" for s in sent(world, "tienda")),
                         WAIT, "the owner's confirmation")
        await world.quiet()
        assert [s["text"] for s in sent(world, "tienda") if s["chat"] == CUSTOMER] == []


async def test_slow_sending_of_one_tenant_does_not_delay_another_on_the_real_bridge(tmp_path):
    async with FaultWorld(tmp_path, bridge_command=COMMAND) as world:
        await linked(world, "lenta", "56900002222")
        await linked(world, "rapida", "56900003333")
        for n in range(3):  # each confirmation waits 3 s for the slow bridge's pacing
            act(world, "lenta", op="message", id=f"S{n}", chat="56900002222@s.whatsapp.net",
                sender="56900002222@s.whatsapp.net", from_me=True, text="estado", kind="text")
        await wait_until(lambda: any(s.get("chat") == "56900002222@s.whatsapp.net" for s in sent(world, "lenta")),
                         WAIT, "the slow bridge sending")
        loop = asyncio.get_running_loop()
        started = loop.time()
        act(world, "rapida", op="message", id="R1", chat=CUSTOMER, sender=CUSTOMER, text="hola", kind="text")

        async def answered() -> bool:
            return any(s["chat"] == CUSTOMER for s in sent(world, "rapida"))

        await wait_until(answered, WAIT, "the other tenant's reply")
        assert loop.time() - started < 2.0  # not behind the slow tenant's 3-second sends


async def test_a_bridge_killed_during_recovery_after_a_relay_restart_asks_openai_once_per_turn(tmp_path, monkeypatch):
    """Issue #17 item 6 on the real bridge: the relay restarts with image turns unanswered,
    and while it is answering them the bridge is killed and comes back (a second
    `BridgeConnected`). Each turn is still answered by one OpenAI call."""
    import os
    import signal

    from tests.support.faults import openai_problems

    monkeypatch.setenv("PUENTE_SEND_GAP_MS", "0-0")
    chats = [f"5697000{n:04d}@s.whatsapp.net" for n in range(24)]
    texts = [f"foto de {chat.split('@')[0]}" for chat in chats]
    async with FaultWorld(tmp_path, openai=FakeOpenAI(latency=30), bridge_command=COMMAND) as world:
        await linked(world, "tienda", "56900004444")
        for n, (chat, text) in enumerate(zip(chats, texts, strict=True)):
            act(world, "tienda", op="message", id=f"IMG{n}", chat=chat, sender=chat, kind="image", text=text,
                media_size=200_000, mime="image/jpeg")
        ids = [f"IMG{n}" for n in range(len(chats))]

        async def recorded() -> bool:
            return await world.puente.pipeline.messages.recorded("tienda", ids) == set(ids)

        await wait_until(recorded, WAIT, "every photo recorded")
    # The relay stopped with every turn at OpenAI: all 24 are pending, with their images.
    second = FakeOpenAI(latency=0.2)
    async with FaultWorld(tmp_path, openai=second, bridge_command=COMMAND) as world:
        puente = world.puente
        await wait_until(lambda: puente.bridges.is_connected("tienda") and second.responses_created >= 2, WAIT,
                         "the backlog being answered")
        first_pid = puente.supervisor.pid("tienda")
        os.kill(first_pid, signal.SIGKILL)  # the bridge dies mid-recovery; the supervisor starts it again
        await wait_until(lambda: puente.supervisor.pid("tienda") not in (None, first_pid)
                         and puente.bridges.is_connected("tienda"), WAIT, "the bridge back")

        def answered() -> set[str]:
            return {s["chat"] for s in sent(world, "tienda") if s["chat"] in chats}

        await wait_until(lambda: answered() == set(chats), WAIT, lambda: f"every photo answered: {len(answered())}")
        await world.quiet()
        # the fake renders a turn's image as "[imagen]" before its caption: each image went too
        assert openai_problems(second.response_requests, [f"[imagen] {text}" for text in texts]) == []
