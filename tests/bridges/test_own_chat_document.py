"""A document the owner sends to the account's own chat reaches the relay with its bytes,
from the real Node bridge (bridge_node/src/main.mjs on its fake WhatsApp socket, replaying
a real-shaped WAMessage) and from FakeBridge.send_own_document alike: the pipeline tests
that use the fake see the frame the real bridge sends (docs/PROTOCOL.md, `media`)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.fakes import FakeBridge, FakeRelay
from tests.support.bridges import REPO_ROOT

pytestmark = pytest.mark.usefixtures("node_bridge_installed")

MAIN = REPO_ROOT / "bridge_node" / "src" / "main.mjs"
FIXTURE = REPO_ROOT / "bridge_node" / "test" / "fixtures" / "owner_own_chat_document.json"
OWNER_PHONE = "56911112222"
PDF = b"%PDF-1.7\n% carta de verano\n%%EOF\n"
# What the relay reads of a message frame; `id`, `timestamp` and `push_name` differ by nature.
COMPARED = ("chat", "sender", "sender_phone", "from_me", "sent_by_bridge", "is_group", "kind", "text",
            "media", "media_omitted")


async def _node_bridge(relay: FakeRelay, tmp_path: Path) -> tuple[asyncio.subprocess.Process, Path]:
    control = tmp_path / "control.jsonl"
    control.write_text("")
    env = {**os.environ, "PUENTE_RELAY_URL": relay.ws_url, "PUENTE_TENANT": "tienda",
           "PUENTE_BRIDGE_TOKEN": "secret-tienda", "PUENTE_SESSION_DIR": str(tmp_path / "session"),
           "PUENTE_FAKE_SOCKET": str(control), "PUENTE_LOG_LEVEL": "warn"}
    process = await asyncio.create_subprocess_exec(shutil.which("node"), str(MAIN), env=env,
                                                   stdout=asyncio.subprocess.DEVNULL)
    return process, control


def _act(control: Path, **action: object) -> None:
    with control.open("a") as handle:
        handle.write(json.dumps(action) + "\n")


async def test_the_real_bridge_and_the_fake_send_the_same_own_chat_document_frame(tmp_path) -> None:
    async with FakeRelay({"tienda": "secret-tienda", "fake": "secret-fake"}) as relay:
        process, control = await _node_bridge(relay, tmp_path)
        try:
            await relay.wait_connected("tienda", timeout=30)
            _act(control, op="open", phone=OWNER_PHONE, lid="99911112222", name="Tienda")
            await relay.wait_for_frame("tienda", "status", lambda f: f["state"] == "connected", timeout=30)
            # The phone's shape: documentWithCaptionMessage in the own chat addressed by the
            # account's LID (WAProto.proto Message.DocumentMessage; Baileys 7 keys).
            _act(control, op="message", raw=json.loads(FIXTURE.read_text()), media_base64=base64.b64encode(PDF).decode())
            real = await relay.wait_for_message("tienda", lambda f: f.get("kind") == "document", timeout=30)
        finally:
            process.terminate()
            await process.wait()

        async with FakeBridge(relay.ws_url, "fake", "secret-fake", phone=OWNER_PHONE) as bridge:
            fake_id = await bridge.send_own_document("menu-verano.pdf", PDF, "aprende")
            fake = await relay.wait_for_message("fake", lambda f: f["id"] == fake_id)

    assert real["chat"] == f"{OWNER_PHONE}@s.whatsapp.net" and real["from_me"] and real["text"] == "aprende"
    assert real["media"] == {"mime": "application/pdf", "data_base64": base64.b64encode(PDF).decode(),
                             "file_name": "menu-verano.pdf"}
    assert {k: fake.get(k) for k in COMPARED} == {k: real.get(k) for k in COMPARED}
