"""Resident memory of real Node bridges: `PYTHONPATH=. python bench/bridge_memory.py`.

Starts K bridges (`node bridge_node/src/main.mjs`, fake WhatsApp socket through
PUENTE_FAKE_SOCKET, so Baileys is loaded but no network is used) against the FakeRelay
(which acks every message), links each one (`open`), and reads VmRSS/VmHWM from
/proc/<pid>/status: idle, and after M messages were injected into each bridge through its
fake-socket control file and acked by the relay. For comparison it also measures a bare
`node` process and one that only imports Baileys. Writes bench/results/bridge_memory.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import append_run
from tests.fakes import FakeRelay  # noqa: E402

BRIDGE = ROOT / "bridge_node"
RESULTS = ROOT / "bench" / "results"


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) and Pss (RSS with shared pages split among their sharers), in kB."""
    out = {}
    for name, keys in ((f"/proc/{pid}/status", ("VmRSS:", "VmHWM:")), (f"/proc/{pid}/smaps_rollup", ("Pss:",))):
        with open(name) as f:
            for line in f:
                if line.startswith(keys):
                    key, value = line.split(":")
                    out[key] = int(value.split()[0])
    return out


async def reference_rss(code: str, node_flags: list[str], settle: float = 2.0) -> int:
    """RSS (kB) of `node -e code` (run from bridge_node/ so `baileys` resolves) once settled."""
    proc = await asyncio.create_subprocess_exec("node", *node_flags, "--input-type=module", "-e", code, cwd=BRIDGE,
                                                stdout=asyncio.subprocess.PIPE)
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line.strip() == b"ready", line
    await asyncio.sleep(settle)
    rss = memory_kb(proc.pid)["VmRSS"]
    proc.kill()
    await proc.wait()
    return rss


class Bridge:
    """One real bridge process with its own session directory and control file."""

    def __init__(self, n: int, relay: FakeRelay, workdir: Path, node_flags: list[str]) -> None:
        self.slug = f"mem-{n:02d}"
        self.token = f"bench-token-{n:02d}-" + "x" * 20
        self.control = workdir / f"{self.slug}.jsonl"
        self.session = workdir / "sessions" / self.slug
        self.relay = relay
        self.node_flags = node_flags
        self.proc: asyncio.subprocess.Process | None = None
        relay.add_tenant(self.slug, self.token)

    async def start(self) -> None:
        env = {**os.environ, "PUENTE_RELAY_URL": self.relay.ws_url, "PUENTE_TENANT": self.slug,
               "PUENTE_BRIDGE_TOKEN": self.token, "PUENTE_SESSION_DIR": str(self.session),
               "PUENTE_FAKE_SOCKET": str(self.control), "PUENTE_LOG_LEVEL": "warn", "PUENTE_SEND_GAP_MS": "0-0"}
        self.control.write_text("")
        self.proc = await asyncio.create_subprocess_exec(
            "node", *self.node_flags, str(BRIDGE / "src" / "main.mjs"), env=env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL)

    def act(self, *actions: dict) -> None:
        with self.control.open("a") as f:
            f.writelines(json.dumps(a) + "\n" for a in actions)

    async def link(self) -> None:
        await self.relay.wait_connected(self.slug, timeout=60)
        self.act({"op": "open", "phone": "56911112222", "name": "Bench"})
        await self.relay.wait_for_frame(self.slug, "status", lambda f: f.get("state") == "connected", timeout=30)

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def summary(values_kb: list[int]) -> dict[str, float]:
    mb = [v / 1024 for v in values_kb]
    return {"median_mb": round(statistics.median(mb), 1), "max_mb": round(max(mb), 1)}


async def run(args: argparse.Namespace) -> dict:
    flags = args.node_flags.split()
    result: dict = {"bridges": args.bridges, "messages_per_bridge": args.messages, "node_flags": args.node_flags}
    result["bare_node_mb"] = round(await reference_rss(
        "console.log('ready'); setInterval(() => {}, 1000);", flags) / 1024, 1)
    result["node_import_baileys_mb"] = round(await reference_rss(
        "await import('baileys'); console.log('ready'); setInterval(() => {}, 1000);", flags) / 1024, 1)
    relay = FakeRelay()
    await relay.start()
    with tempfile.TemporaryDirectory(prefix="puente-bridge-mem-") as tmp:
        bridges = [Bridge(n, relay, Path(tmp), flags) for n in range(args.bridges)]
        try:
            await asyncio.gather(*(b.start() for b in bridges))
            await asyncio.gather(*(b.link() for b in bridges))
            await asyncio.sleep(args.settle)
            idle = [memory_kb(b.proc.pid) for b in bridges]
            started = time.perf_counter()
            for b in bridges:
                for chunk in range(0, args.messages, 100):
                    b.act(*({"op": "message", "id": f"{b.slug}-M{i}", "chat": f"569{i % 50:08d}@s.whatsapp.net",
                             "sender": f"569{i % 50:08d}@s.whatsapp.net", "from_me": False, "kind": "text",
                             "text": f"hola, mensaje número {i} de la prueba de memoria", "push_name": "Ana"}
                            for i in range(chunk, min(chunk + 100, args.messages))))
            deadline = time.perf_counter() + args.timeout
            while time.perf_counter() < deadline:
                if all(len(relay.messages.get(b.slug, {})) >= args.messages for b in bridges):
                    break
                await asyncio.sleep(0.2)
            elapsed = time.perf_counter() - started
            delivered = {b.slug: len(relay.messages.get(b.slug, {})) for b in bridges}
            await asyncio.sleep(args.settle)
            loaded = [memory_kb(b.proc.pid) for b in bridges]
        finally:
            await asyncio.gather(*(b.stop() for b in bridges))
            await relay.stop()
    result.update(
        idle_rss=summary([m["VmRSS"] for m in idle]),
        after_rss=summary([m["VmRSS"] for m in loaded]),
        after_peak_rss=summary([m["VmHWM"] for m in loaded]),
        idle_pss=summary([m["Pss"] for m in idle]),
        after_pss=summary([m["Pss"] for m in loaded]),
        delivered=delivered, delivery_seconds=round(elapsed, 1),
    )
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bridges", type=int, default=5)
    p.add_argument("--node-flags", default="", help="flags for node before the script, e.g. '--max-semi-space-size=1'")
    p.add_argument("--messages", type=int, default=1000, help="messages injected into each bridge")
    p.add_argument("--settle", type=float, default=3.0, help="seconds to wait before each reading")
    p.add_argument("--timeout", type=float, default=180.0, help="give up waiting for the messages after this")
    p.add_argument("--output", default=str(RESULTS / "bridge_memory.json"))
    args = p.parse_args()
    result = asyncio.run(run(args))
    result["date"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    print(f"bare node: {result['bare_node_mb']} MB; node + import('baileys'): {result['node_import_baileys_mb']} MB")
    for key in ("idle_rss", "after_rss", "after_peak_rss", "idle_pss", "after_pss"):
        print(f"bridge {key}: median {result[key]['median_mb']} MB, max {result[key]['max_mb']} MB")
    print(f"delivered per bridge: {result['delivered']} in {result['delivery_seconds']} s")
    append_run(Path(args.output), result)


if __name__ == "__main__":
    main()
