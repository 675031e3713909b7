"""WhatsApp states: what the bridge reports reaches the states, the tenant and the operators."""

from __future__ import annotations

from datetime import datetime

from core.events import Alert, AlertKind, WhatsAppStateChanged
from tests.fakes import FakeBridge
from tests.support.bridges import RelaySide


def alerts(relay, kind: AlertKind) -> list[Alert]:
    return relay.events.of(Alert, kind=kind)


async def test_connected_status_is_current_saved_and_alerted_once(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token, phone="56911112222", name="Tienda Sol") as bridge:
        change = await relay.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "connected")
        assert change.previous.state == "stopped"
        await bridge.reconnect()
        await bridge.send_status("connected")
        await relay.bus.drain()
    state = relay.states.get("tienda")
    assert (state.state, state.phone, state.name) == ("connected", "56911112222", "Tienda Sol")
    saved = (await relay.tenants.get("tienda")).whatsapp
    assert (saved.state, saved.phone, saved.name) == ("connected", "56911112222", "Tienda Sol")
    assert [a.detail for a in alerts(relay, AlertKind.CONNECTED)] == [{"phone": "56911112222", "name": "Tienda Sol"}]


async def test_a_relay_restart_with_a_still_connected_bridge_alerts_nothing(store, clock, tmp_path) -> None:
    first = await RelaySide(store, clock, tmp_path / "data").start()
    token = await first.add_tenant("tienda")
    async with FakeBridge(first.url, "tienda", token):
        await first.events.wait_for(Alert, kind=AlertKind.CONNECTED)
    await first.stop()

    second = await RelaySide(store, clock, tmp_path / "data").start()
    try:
        assert second.states.get("tienda").state == "stopped"  # no bridge running yet
        assert second.states.get("tienda").phone == "5491155550000"
        async with FakeBridge(second.url, "tienda", token) as bridge:
            await bridge.send_status("starting")
            await bridge.send_status("connected")
            await second.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "connected")
            await second.bus.drain()
        assert alerts(second, AlertKind.CONNECTED) == []
    finally:
        await second.stop()


async def test_a_qr_is_shown_but_not_saved_on_the_tenant(relay, clock) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token, state="waiting_qr") as bridge:
        await relay.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "waiting_qr")
        saved_at = clock.now()
        clock.advance(seconds=30)
        await bridge.send_qr("2@abc,def,ghi", expires_in=20)
        change = await relay.events.wait_for(WhatsAppStateChanged, lambda e: e.state.qr is not None)
    assert change.state.qr == "2@abc,def,ghi"
    assert isinstance(change.state.qr_expires_at, datetime)
    assert relay.states.get("tienda").qr == "2@abc,def,ghi"
    saved = (await relay.tenants.get("tienda")).whatsapp  # frames are handled in order: the save is done
    assert (saved.state, saved.updated_at) == ("waiting_qr", saved_at)


async def test_connecting_clears_the_qr(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token, state="waiting_qr") as bridge:
        await bridge.send_qr("2@abc")
        await relay.events.wait_for(WhatsAppStateChanged, lambda e: e.state.qr == "2@abc")
        await bridge.send_status("connected", phone="56911112222")
        await relay.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "connected")
    assert relay.states.get("tienda").qr is None


async def test_logged_out_banned_and_qr_timeout_are_alerted_once_each(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        for state, reason in [("logged_out", "logged_out"), ("logged_out", "logged_out"), ("waiting_qr", None),
                              ("stopped", "qr_timeout"), ("stopped", "qr_timeout"), ("banned", "forbidden"),
                              ("banned", "forbidden")]:
            await bridge.send_status(state, reason=reason)
        await relay.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "banned")
        await relay.bus.drain()
    kinds = [a.kind for a in relay.events.of(Alert)]
    assert kinds == [AlertKind.CONNECTED, AlertKind.LOGGED_OUT, AlertKind.QR_TIMEOUT, AlertKind.BANNED]
    assert alerts(relay, AlertKind.BANNED)[0].detail["reason"] == "forbidden"
    assert (await relay.tenants.get("tienda")).whatsapp.state == "banned"


async def test_a_reconnecting_blip_does_not_alert_connected_again(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token) as bridge:
        await bridge.send_status("reconnecting")
        await bridge.send_status("connected")
        await relay.events.changes.wait_until(
            lambda: len(relay.events.of(WhatsAppStateChanged)) >= 3, 5, "three state changes")
        await relay.bus.drain()
    assert len(alerts(relay, AlertKind.CONNECTED)) == 1


async def test_pairing_code_reaches_the_state_and_login_returns_it(relay) -> None:
    token = await relay.add_tenant("tienda")
    async with FakeBridge(relay.url, "tienda", token, state="waiting_qr", pairing_code="ABCD1234") as bridge:
        await relay.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "waiting_qr")
        code = await relay.login.pairing_code("tienda", "+56 9 1111 2222")
        assert code == "ABCD1234"
        assert bridge.pairs[0]["phone"] == "56911112222"
        await relay.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "pairing")
        assert relay.states.get("tienda").pairing_code == "ABCD1234"


async def test_bridges_are_counted_by_state(relay) -> None:
    token = await relay.add_tenant("tienda")
    await relay.add_tenant("otra")
    async with FakeBridge(relay.url, "tienda", token):
        await relay.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "connected")
        await relay.bus.drain()
        gauge = relay.metrics.registry.get_sample_value
        assert gauge("puente_bridges", {"state": "connected"}) == 1
        assert gauge("puente_bridges", {"state": "stopped"}) == 1  # "otra": no bridge yet
    await relay.tenants.delete("otra", "telegram:1")
    await relay.bus.drain()
    assert gauge("puente_bridges", {"state": "stopped"}) == 0
