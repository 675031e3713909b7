"""The tenant's settings a bridge acts on (docs/PROTOCOL.md, `config`): given in `welcome`,
and again in a `config` frame when the operator changes them."""

from __future__ import annotations

import asyncio

from tests.fakes import FakeBridge


def configs(bridge: FakeBridge) -> list[dict]:
    return [f["config"] for f in bridge.received if f.get("type") == "config"]


async def test_welcome_carries_the_tenants_settings_for_the_bridge(relay) -> None:
    token = await relay.add_tenant("tienda")
    await relay.tenants.update_settings("tienda", "telegram:1", groups_enabled=True, reject_calls=True,
                                        call_message="Ahora no contesto llamadas; escríbeme 🙂")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        assert bridge.received[0] == {"type": "welcome", "protocol": 1, "config": {
            "groups": True, "reject_calls": True, "call_message": "Ahora no contesto llamadas; escríbeme 🙂"}}
        await relay.bus.drain()
        assert configs(bridge) == []  # nothing changed since the welcome


async def test_changed_settings_reach_the_live_bridge_in_a_config_frame_and_other_changes_do_not(relay) -> None:
    token = await relay.add_tenant("tienda")
    other_token = await relay.add_tenant("otra")
    async with FakeBridge(relay.url, "tienda", token) as bridge, FakeBridge(relay.url, "otra", other_token) as other:
        await relay.tenants.update_settings("tienda", "telegram:1", reject_calls=True)
        frame = await bridge.wait_for_frame("config")
        assert frame["config"] == {"groups": False, "reject_calls": True,
                                   "call_message": "No puedo atender llamadas, escríbeme por aquí"}
        # Not the bridge's business: the model, the other settings, another tenant's settings.
        await relay.tenants.set_model("tienda", "gpt-4.1", "telegram:1")
        await relay.tenants.update_settings("tienda", "telegram:1", debounce_seconds=5)
        await relay.tenants.update_settings("otra", "telegram:1", memory_hours=48)
        await relay.tenants.update_settings("tienda", "telegram:1", call_message="Solo por escrito, gracias")
        await bridge.wait_for_frame("config", lambda f: f["config"]["call_message"] == "Solo por escrito, gracias")
        await relay.bus.drain()
        await asyncio.sleep(0.05)
        assert [c["call_message"] for c in configs(bridge)] == [
            "No puedo atender llamadas, escríbeme por aquí", "Solo por escrito, gracias"]
        assert configs(other) == []
