"""End to end with the real Node bridge (bridge_node/src/main.mjs) on its fake WhatsApp
socket, started by the real supervisor and connected to the real /bridge endpoint."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from core.events import Alert, AlertKind, WhatsAppStateChanged
from core.settings import Settings
from relay.bridges.events import MessageReceived
from tests.support.bridges import REPO_ROOT
from tests.support.faults import wait_until

NODE = shutil.which("node")
NODE_MODULES = REPO_ROOT / "bridge_node" / "node_modules"
WAIT = 30.0
CUSTOMER = "56922223333@s.whatsapp.net"

pytestmark = pytest.mark.usefixtures("node_bridge_installed")


class FakeWhatsApp:
    """The control file the Node bridge's fake socket tails, and what it records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_text("")

    def do(self, **op: object) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(op) + "\n")

    def records(self) -> list[dict]:
        out = self.path.with_name(self.path.name + ".out")
        if not out.exists():
            return []
        return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]

    async def wait_record(self, kind: str, predicate=lambda r: True) -> dict:
        async with asyncio.timeout(WAIT):
            while True:
                found = [r for r in self.records() if r.get("type", r.get("op", r.get("event"))) == kind
                         and predicate(r)]
                if found:
                    return found[0]
                await asyncio.sleep(0.05)


async def test_qr_connect_message_and_send_through_the_real_node_bridge(supervised, tmp_path, monkeypatch) -> None:
    whatsapp = FakeWhatsApp(tmp_path / "whatsapp.jsonl")
    monkeypatch.setenv("PUENTE_FAKE_SOCKET", str(whatsapp.path))
    monkeypatch.setenv("PUENTE_SEND_GAP_MS", "0-0")
    side = await supervised(bridge_command=Settings.model_fields["bridge_command"].default, shutdown_grace=5.0,
                            kill_grace=5.0)
    await side.start(supervise=True)
    try:
        await side.add_tenant("tienda")

        # a QR goes out to whoever shows it
        first = await side.events.wait_for(WhatsAppStateChanged, lambda e: e.state.qr, timeout=WAIT)
        assert first.state.qr.startswith("fake-qr-") and first.state.qr_expires_at is not None
        whatsapp.do(op="qr", qr="QR-DE-PRUEBA")
        await side.events.wait_for(WhatsAppStateChanged, lambda e: e.state.qr == "QR-DE-PRUEBA", timeout=WAIT)

        # the phone scans it: connected, saved, the operators told once
        whatsapp.do(op="open", phone="56911112222", name="Tienda")
        connected = await side.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "connected",
                                               timeout=WAIT)
        assert (connected.state.phone, connected.state.name, connected.state.qr) == ("56911112222", "Tienda", None)
        # saved on the tenant just after the state is shown
        async def saved_connected() -> bool:
            return (await side.tenants.get("tienda")).whatsapp.state == "connected"

        await wait_until(saved_connected, WAIT, "the connected state saved on the tenant")
        alert = await side.events.wait_for(Alert, kind=AlertKind.CONNECTED, timeout=WAIT)
        assert alert.detail["phone"] == "56911112222"

        # a customer writes
        whatsapp.do(op="message", id="M1", chat=CUSTOMER, sender=CUSTOMER, from_me=False,
                    text="Hola, ¿tienen pan amasado?", kind="text", push_name="Ana")
        received = await side.events.wait_for(MessageReceived, lambda e: e.message.id == "M1", timeout=WAIT)
        assert received.message.text == "Hola, ¿tienen pan amasado?"
        assert received.message.push_name == "Ana" and not received.message.from_me
        await side.bridges.ack("tienda", "M1")

        # the relay answers: `send` out, `result` back with the WhatsApp id
        message_id = await side.bridges.send_text("tienda", CUSTOMER, "¡Hola Ana! Sí, tenemos.", ref="out-1")
        assert message_id
        sent = await whatsapp.wait_record("sent", lambda r: r.get("text") == "¡Hola Ana! Sí, tenemos.")
        assert sent["chat"] == CUSTOMER and sent["id"] == message_id
        echo = await side.events.wait_for(MessageReceived, lambda e: e.message.id == message_id, timeout=WAIT)
        assert echo.message.from_me and echo.message.sent_by_bridge
    finally:
        await side.stop()
    assert not side.supervisor.is_running("tienda")


async def test_calls_to_a_tenant_that_rejects_them_are_rejected_by_the_real_node_bridge_and_the_caller_told(
        supervised, tmp_path, monkeypatch) -> None:
    whatsapp = FakeWhatsApp(tmp_path / "whatsapp.jsonl")
    monkeypatch.setenv("PUENTE_FAKE_SOCKET", str(whatsapp.path))
    monkeypatch.setenv("PUENTE_SEND_GAP_MS", "0-0")
    side = await supervised(bridge_command=Settings.model_fields["bridge_command"].default, shutdown_grace=5.0,
                            kill_grace=5.0)
    await side.start(supervise=True)
    notice = "Por llamada no atiendo; escríbeme y te respondo 🙂"
    try:
        await side.add_tenant("tienda")
        await side.tenants.update_settings("tienda", "telegram:1", reject_calls=True, call_message=notice)
        await wait_until(lambda: side.bridges.is_connected("tienda"), WAIT, "the bridge connected to the relay")
        await side.bus.drain()  # the settings went out, in `welcome` or in a `config` frame after it
        whatsapp.do(op="open", phone="56911112222", name="Tienda")
        await side.events.wait_for(WhatsAppStateChanged, lambda e: e.state.state == "connected", timeout=WAIT)

        whatsapp.do(op="call", id="CALL-1", **{"from": CUSTOMER})
        rejected = await whatsapp.wait_record("reject_call")
        assert (rejected["id"], rejected["caller"]) == ("CALL-1", CUSTOMER)
        told = await whatsapp.wait_record("sent", lambda r: r.get("chat") == CUSTOMER)
        assert told["text"] == notice
        # the notice comes back like any message the bridge sent, so it is never answered
        echo = await side.events.wait_for(MessageReceived, lambda e: e.message.id == told["id"], timeout=WAIT)
        assert echo.message.from_me and echo.message.sent_by_bridge and echo.message.text == notice
    finally:
        await side.stop()
