"""Commands to a bridge and what it sends back: results, messages, acks."""

from __future__ import annotations

import asyncio

import pytest

from relay.bridges.errors import BridgeCommandFailed, BridgeNotConnected, BridgeTimeout
from relay.bridges.events import MessageReceived
from tests.fakes import FakeBridge
from tests.support.bridges import RelaySide

CHAT = "56922223333@s.whatsapp.net"


async def test_send_returns_the_message_id_from_the_bridge_result(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        message_id = await relay.bridges.send_text("tienda", CHAT, "¡Hola! ¿En qué te ayudo?", ref="out-1",
                                                   quote_id="IN-1")
    assert bridge.sent == [{"chat": CHAT, "text": "¡Hola! ¿En qué te ayudo?", "ref": "out-1",
                            "message_id": message_id, "quote_id": "IN-1"}]


async def test_resending_the_same_ref_sends_nothing_twice(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        first = await relay.bridges.send_text("tienda", CHAT, "Hola", ref="out-1")
        again = await relay.bridges.send_text("tienda", CHAT, "Hola", ref="out-1")
    assert first == again and len(bridge.sent) == 1


async def test_a_failed_send_raises_with_the_bridge_error(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token, fail_sends=True):
        with pytest.raises(BridgeCommandFailed) as caught:
            await relay.bridges.send_text("tienda", CHAT, "Hola", ref="out-1")
    assert caught.value.error == "send failed (injected by FakeBridge)"
    assert "send failed" in str(caught.value)


async def test_a_disconnect_fails_pending_commands_with_not_connected(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token, auto_result=False) as bridge:
        pending = asyncio.ensure_future(relay.bridges.send_text("tienda", CHAT, "Hola", ref="out-1"))
        await bridge.wait_for_frame("send")
        await bridge.drop()
        with pytest.raises(BridgeNotConnected):
            await pending


async def test_a_bridge_that_never_answers_times_out(store, clock, tmp_path) -> None:
    relay = await RelaySide(store, clock, tmp_path / "data", command_timeout=0.2).start()
    try:
        token = await relay.add_tenant("tienda")
        async with FakeBridge(relay.url, "tienda", token, auto_result=False):
            with pytest.raises(BridgeTimeout):
                await relay.bridges.delete("tienda", CHAT, "3EB0AAA")
    finally:
        await relay.stop()


async def test_commands_to_a_tenant_without_bridge_raise_not_connected(relay) -> None:
    await relay.add_tenant("tienda")
    with pytest.raises(BridgeNotConnected, match="not connected"):
        await relay.bridges.send_text("tienda", CHAT, "Hola", ref="out-1")
    with pytest.raises(BridgeNotConnected):
        await relay.bridges.typing("tienda", CHAT, True)


async def test_typing_read_delete_and_logout_reach_the_bridge(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        await relay.bridges.typing("tienda", CHAT, True)
        await relay.bridges.typing("tienda", CHAT, False)
        await relay.bridges.read("tienda", CHAT, ["IN-1", "IN-2"])
        await relay.bridges.delete("tienda", CHAT, "3EB0AAA")
        await relay.login.logout("tienda")
        await bridge.wait_for_frame("read")
    assert bridge.typing == [{"chat": CHAT, "state": "composing"}, {"chat": CHAT, "state": "paused"}]
    assert bridge.reads == [{"chat": CHAT, "ids": ["IN-1", "IN-2"]}]
    assert [d["id"] for d in bridge.deletes] == ["3EB0AAA"]
    assert bridge.logouts == 1


async def test_a_message_is_published_typed_and_acked_through_the_registry(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        message_id = await bridge.send_message("56922223333", "¿Tienen pan amasado?", push_name="Marta")
        event = await relay.events.wait_for(MessageReceived, tenant="tienda")
        assert event.message.id == message_id
        assert event.message.text == "¿Tienen pan amasado?" and event.message.push_name == "Marta"
        assert event.message.chat == CHAT and not event.message.from_me
        assert message_id in bridge.unacked  # nothing acks before the pipeline recorded it
        await relay.bridges.ack("tienda", message_id)
        await bridge.wait_for_ack(message_id)
    assert not bridge.unacked


async def test_unacked_messages_come_again_after_a_reconnect(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        message_id = await bridge.send_message("56922223333", "Hola")
        await relay.events.wait_for(MessageReceived, tenant="tienda")
        await bridge.reconnect()
        await relay.events.changes.wait_until(
            lambda: len(relay.events.of(MessageReceived, tenant="tienda")) == 2, 5, "the resent message")
    assert [e.message.id for e in relay.events.of(MessageReceived)] == [message_id, message_id]


async def test_a_large_media_frame_is_accepted(relay) -> None:
    token = await relay.add_tenant("tienda")
    audio = "A" * (12 * 1024 * 1024)
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        await bridge.send_message("56922223333", None, kind="audio",
                                  media={"mime": "audio/ogg", "data_base64": audio, "seconds": 3})
        event = await relay.events.wait_for(MessageReceived, tenant="tienda")
        assert bridge.connected
    assert len(event.message.media.data_base64) == len(audio)
