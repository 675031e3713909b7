"""A bridge process for supervisor tests: `python -m tests.support.bridge_process`.

Reads the docs/PROTOCOL.md variables like a real bridge and runs a FakeBridge against the
relay. What it does and sees goes to $FAKE_BRIDGE_RECORD_DIR/<tenant>.events.jsonl; how
it behaves comes from <tenant>.mode in that directory:

- `connected` (default) / `waiting_qr`: report that state and serve until shutdown/4410;
- `ignore_shutdown`: keep running after `shutdown` until a signal;
- `ignore_sigterm`: like ignore_shutdown, and SIGTERM is recorded but ignored;
- `qr_timeout`: report `stopped` with reason `qr_timeout` and exit 0;
- `crash`: exit 3 at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from tests.fakes.bridge import BridgeRejected, FakeBridge

REQUIRED = ("PUENTE_RELAY_URL", "PUENTE_TENANT", "PUENTE_BRIDGE_TOKEN", "PUENTE_SESSION_DIR")


class Recorder:
    """Appends one JSON line per event."""

    def __init__(self, tenant: str) -> None:
        root = Path(os.environ.get("FAKE_BRIDGE_RECORD_DIR", "."))
        self.path = root / f"{tenant}.events.jsonl"
        self.mode_path = root / f"{tenant}.mode"

    def mode(self) -> str:
        return self.mode_path.read_text().strip() if self.mode_path.exists() else "connected"

    def __call__(self, event: str, **fields: object) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps({"event": event, "pid": os.getpid(), **fields}) + "\n")


async def run() -> int:
    for name in REQUIRED:
        if not os.environ.get(name):
            print(f"missing {name}", file=sys.stderr)
            return 2
    env = os.environ
    tenant, token = env["PUENTE_TENANT"], env["PUENTE_BRIDGE_TOKEN"]
    record = Recorder(tenant)
    mode = record.mode()
    umask = os.umask(0o077)
    os.umask(umask)
    record("started", token=token, session_dir=env["PUENTE_SESSION_DIR"], url=env["PUENTE_RELAY_URL"],
           log_level=env.get("PUENTE_LOG_LEVEL"), cwd=os.getcwd(), mode=mode, environ=dict(env), umask=umask)
    if mode == "crash":
        print("bridge crashed on purpose", file=sys.stderr, flush=True)
        return 3
    session = Path(env["PUENTE_SESSION_DIR"])
    session.mkdir(parents=True, exist_ok=True)
    (session / "creds.json").write_text("{}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_sigterm() -> None:
        record("sigterm")
        if mode != "ignore_sigterm":
            stop.set()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    state = "waiting_qr" if mode == "waiting_qr" else "connected"
    bridge = FakeBridge(env["PUENTE_RELAY_URL"], tenant, token, run_forever=True, state=state,
                        phone="56911112222", name="Tienda", backoff=(0.05, 0.3))
    try:
        await bridge.start()
    except BridgeRejected as exc:
        record("rejected", status=exc.status, close_code=exc.close_code)
        return 0
    record("connected")
    print(f"bridge of {tenant} connected with token {token}", flush=True)
    if mode == "qr_timeout":
        await bridge.send_status("stopped", reason="qr_timeout")
        await bridge.stop()
        record("exit", code=0)
        return 0
    exited = asyncio.ensure_future(bridge.wait_exited(timeout=3600))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if bridge.shutdown_requested:
        record("shutdown")
    if exited.done() and mode in ("ignore_shutdown", "ignore_sigterm"):
        await stop.wait()
    await bridge.stop()
    record("exit", code=0, close_code=bridge.close_code)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run()))
