"""The real Node bridge on its fake WhatsApp socket, run by the supervisor of an in-process
Puente: the command line that points each tenant's bridge at a control file in its
session directory, and the helpers that write actions there and read what it recorded
(bridge_node/src/fake_socket.mjs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support.faults import ROOT, FaultWorld

NODE = shutil.which("node")
MAIN = ROOT / "bridge_node" / "src" / "main.mjs"
# One control file per tenant, in its session directory, wherever the supervisor puts it.
COMMAND = f"sh -c 'PUENTE_FAKE_SOCKET=\"$PUENTE_SESSION_DIR/control.jsonl\" exec {NODE} {MAIN}'"


def control(world: FaultWorld, slug: str) -> Path:
    return world.puente.supervisor.session_dir(slug) / "control.jsonl"


def act(world: FaultWorld, slug: str, **action) -> None:
    """Make the tenant's fake WhatsApp do something (a message arrives, the phone links...)."""
    with control(world, slug).open("a") as handle:
        handle.write(json.dumps(action) + "\n")


def sent(world: FaultWorld, slug: str) -> list[dict]:
    """What the fake WhatsApp delivered to customers (across every bridge process)."""
    out = Path(f"{control(world, slug)}.out")
    if not out.exists():
        return []
    records = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    return [r for r in records if r.get("op") == "sent"]
