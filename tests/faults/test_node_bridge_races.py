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
