"""The /bridge endpoint against the fake bridge: credentials, handshake, close codes."""

from __future__ import annotations

import aiohttp
import pytest

from core.events import BridgeConnected, BridgeDisconnected
from tests.fakes import BridgeRejected, FakeBridge
from tests.support.bridges import connect_raw, hello, next_close_code


async def test_wrong_or_missing_token_is_refused_with_401_before_the_upgrade(relay) -> None:
    token = await relay.add_tenant("tienda")
    for tenant, presented in [("tienda", "not-the-token"), ("tienda", None), (None, token), ("nadie", token)]:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await connect_raw(relay.url, tenant, presented)
        assert caught.value.status == 401
    assert not relay.bridges.is_connected("tienda")


async def test_token_of_one_tenant_cannot_connect_as_another(relay) -> None:
    token_a = await relay.add_tenant("tienda-a")
    await relay.add_tenant("tienda-b")
    bridge = FakeBridge(relay.url, "tienda-b", token_a)
    with pytest.raises(BridgeRejected) as caught:
        await bridge.start()
    await bridge.stop()
    assert caught.value.status == 401
    assert not relay.bridges.is_connected("tienda-b")


async def test_hello_is_answered_with_welcome_and_the_bridge_is_live(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        assert bridge.received[0] == {"type": "welcome", "protocol": 1, "config": {
            "groups": False, "reject_calls": False, "call_message": "No puedo atender llamadas, escríbeme por aquí"}}
        await relay.events.wait_for(BridgeConnected, tenant="tienda")
        assert relay.bridges.is_connected("tienda")
        assert relay.bridges.connection("tienda").bridge_version == "fake-bridge/1"
    await relay.events.wait_for(BridgeDisconnected, tenant="tienda")
    assert not relay.bridges.is_connected("tienda")


@pytest.mark.parametrize("first_frame", [
    '{"type":"status","state":"connected","at":"2026-11-26T12:00:00Z"}',
    hello("otra-tienda"),
    hello("tienda", protocol=2),
    "{no es json",
])
async def test_first_frame_must_be_a_matching_hello_or_4400(relay, first_frame) -> None:
    token = await relay.add_tenant("tienda")
    session, ws = await connect_raw(relay.url, "tienda", token)
    try:
        await ws.send_str(first_frame)
        assert await next_close_code(ws) == 4400
    finally:
        await session.close()
    assert not relay.bridges.is_connected("tienda")


async def test_a_new_connection_replaces_the_old_one_with_4409(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as first, FakeBridge(relay.url, "tienda", token) as second:
        assert await first.wait_disconnected() == 4409
        assert second.connected
        assert relay.bridges.is_connected("tienda")
        await relay.bridges.send_text("tienda", "56922223333@s.whatsapp.net", "Hola", ref="r-1")
        assert [s["text"] for s in second.sent] == ["Hola"] and first.sent == []
        await relay.bus.drain()
        # the replaced connection leaving does not make the tenant look disconnected
        assert relay.events.of(BridgeDisconnected, tenant="tienda") == []


async def test_disabled_tenant_is_refused_with_4410(relay) -> None:
    token = await relay.add_tenant("tienda", enabled=False)
    bridge = FakeBridge(relay.url, "tienda", token)
    with pytest.raises(BridgeRejected) as caught:
        await bridge.start()
    await bridge.stop()
    assert caught.value.close_code == 4410


async def test_disabling_a_tenant_sends_shutdown_and_closes_its_bridge_with_4410(relay) -> None:
    token = await relay.add_tenant("tienda")
    other_token = await relay.add_tenant("otra")
    async with FakeBridge(relay.url, "tienda", token) as bridge, FakeBridge(relay.url, "otra", other_token) as other:
        await relay.tenants.set_enabled("tienda", False, "telegram:1")
        await bridge.wait_disconnected()
        assert bridge.shutdown_requested
        assert other.connected and relay.bridges.is_connected("otra")
    assert not relay.bridges.is_connected("tienda")


async def test_deleting_a_tenant_closes_its_bridge_with_4410(relay) -> None:
    token = await relay.add_tenant("tienda")
    bridge = FakeBridge(relay.url, "tienda", token, run_forever=True)
    await bridge.start()
    await relay.tenants.delete("tienda", "telegram:1")
    assert await bridge.wait_exited() in (4410, 1000)
    assert bridge.shutdown_requested
    await bridge.stop()


async def test_malformed_json_closes_with_4400_and_is_logged_with_the_tenant(relay, caplog) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        await bridge.raw("{esto no es json")
        assert await bridge.wait_disconnected() == 4400
    assert any("tienda" in r.getMessage() and "4400" in r.getMessage() for r in caplog.records)


async def test_a_malformed_known_frame_closes_with_4400(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        await bridge.raw({"type": "status", "state": "bailando", "at": "2026-11-26T12:00:00Z"})
        assert await bridge.wait_disconnected() == 4400


async def test_unknown_frame_types_are_ignored_and_the_connection_stays(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        await bridge.raw({"type": "battery", "level": 80})
        message_id = await relay.bridges.send_text("tienda", "56922223333@s.whatsapp.net", "Sigo aquí", ref="r-1")
        assert bridge.connected
        assert bridge.sent[0]["message_id"] == message_id


async def test_a_flood_of_bad_frames_from_one_tenant_does_not_hurt_another(relay) -> None:
    noisy_token = await relay.add_tenant("ruidosa")
    calm_token = await relay.add_tenant("tranquila")
    async with FakeBridge(relay.url, "tranquila", calm_token) as calm:
        for _ in range(5):
            async with FakeBridge(relay.url, "ruidosa", noisy_token) as noisy:
                for n in range(300):
                    await noisy.raw({"type": f"basura-{n}"})
                await noisy.raw("][")
                assert await noisy.wait_disconnected() == 4400
        message_id = await relay.bridges.send_text("tranquila", "56922223333@s.whatsapp.net", "Hola", ref="r-1")
        assert calm.sent[0]["message_id"] == message_id


async def test_binary_frames_close_with_4400(relay) -> None:
    token = await relay.add_tenant("tienda")
    session, ws = await connect_raw(relay.url, "tienda", token)
    try:
        await ws.send_str(hello("tienda"))
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"
        await ws.send_bytes(b"\x00\x01")
        assert await next_close_code(ws) == 4400
    finally:
        await session.close()


async def test_relay_stop_closes_bridges_so_they_reconnect_elsewhere(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        await relay.endpoint.stop()
        assert await bridge.wait_disconnected() == 1001
    assert not relay.bridges.is_connected("tienda")
