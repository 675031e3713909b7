"""Recovery times with real Node bridges: `PYTHONPATH=. python bench/recovery.py`.

The real relay (puente.app.Puente, admin bot off, embedded store) runs K real bridges
through its supervisor (BRIDGE_COMMAND default, PUENTE_FAKE_SOCKET in the environment, so
Baileys loads but no WhatsApp network is used). Measured, from the relay's point of view
(its BridgeConnected event is published right after it sends `welcome`):

1. cold start: from the tenant's creation to its bridge's first `welcome`;
2. crash: from `kill -9` of a bridge to its replacement's `welcome` (each bridge once,
   then one bridge killed again right away to show the supervisor's backoff doubling);
3. supervised relay restart: from a new relay's start() (same DATA_DIR, the old relay
   stopped, which stops its bridges) to all K bridges welcomed;
4. external bridges: K bridges started by hand (BRIDGE_COMMAND empty, as on another host)
   while the relay restarts on the same port: from the new relay's start() to all K
   reconnected (the bridges' own reconnect backoff, 0.5 s doubling to 30 s).

Writes bench/results/recovery.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import append_run
from core.events import BridgeConnected  # noqa: E402
from core.settings import Settings  # noqa: E402
from puente.app import Puente  # noqa: E402
from tenants.service import NewTenant  # noqa: E402

RESULTS = ROOT / "bench" / "results"
KEY = "sk-test-" + "recovery" * 5


class Welcomes:
    """When each tenant's bridge was last welcomed (perf_counter), fed by the bus."""

    def __init__(self) -> None:
        self.at: dict[str, list[float]] = {}
        self.changed = asyncio.Event()

    def attach(self, puente: Puente) -> None:
        puente.bus.subscribe("bench-welcomes", self._on, BridgeConnected)

    async def _on(self, event: BridgeConnected) -> None:
        self.at.setdefault(event.tenant, []).append(time.perf_counter())
        self.changed.set()

    async def after(self, slugs: list[str], since: float, timeout: float) -> dict[str, float]:
        """Wait until every slug was welcomed after `since`; the seconds each took."""
        deadline = time.perf_counter() + timeout
        while True:
            done = {s: next((t for t in self.at.get(s, []) if t > since), None) for s in slugs}
            if all(v is not None for v in done.values()):
                return {s: round(t - since, 3) for s, t in done.items()}
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"not welcomed in {timeout} s: {[s for s, v in done.items() if v is None]}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                pass


def settings(workdir: Path, port: int, bridge_command: str | None) -> Settings:
    extra = {} if bridge_command is None else {"bridge_command": bridge_command}
    return Settings(data_dir=workdir / "data", http_host="127.0.0.1", http_port=port, log_level="warning",
                    mongodb_uri=os.environ.get("MONGODB_URI") or None, mongodb_db=f"puente_recovery_{os.getpid()}",
                    **extra)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stats(values: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(values), 3), "max_s": round(max(values), 3), "n": len(values)}


async def supervised(args: argparse.Namespace, workdir: Path) -> dict:
    slugs = [f"rec-{n:02d}" for n in range(args.bridges)]
    puente = Puente(settings(workdir, 0, None), with_admin_bot=False)
    welcomes = Welcomes()
    welcomes.attach(puente)
    await puente.start()
    out: dict = {}
    try:
        since = time.perf_counter()
        for slug in slugs:
            await puente.tenants.create(NewTenant(slug=slug, name=slug, openai_key=KEY), "bench")
        out["cold_start"] = stats(list((await welcomes.after(slugs, since, 120)).values()))
        await asyncio.sleep(2)
        crashes = []
        for slug in slugs:
            pid = puente.supervisor.pid(slug)
            since = time.perf_counter()
            os.kill(pid, signal.SIGKILL)
            crashes.append((await welcomes.after([slug], since, 60))[slug])
        out["kill9_first_crash"] = stats(crashes)
        pid = puente.supervisor.pid(slugs[0])
        since = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        out["kill9_second_crash_same_bridge_s"] = (await welcomes.after([slugs[0]], since, 60))[slugs[0]]
    finally:
        stop_started = time.perf_counter()
        await puente.stop()
        out["relay_stop_s"] = round(time.perf_counter() - stop_started, 3)
    puente = Puente(settings(workdir, 0, None), with_admin_bot=False)
    welcomes = Welcomes()
    welcomes.attach(puente)
    since = time.perf_counter()
    await puente.start()
    try:
        out["relay_restart_supervised"] = stats(list((await welcomes.after(slugs, since, 120)).values()))
    finally:
        await puente.stop()
    return out


async def external(args: argparse.Namespace, workdir: Path) -> dict:
    port = free_port()
    slugs = [f"ext-{n:02d}" for n in range(args.bridges)]
    puente = Puente(settings(workdir, port, ""), with_admin_bot=False)
    welcomes = Welcomes()
    welcomes.attach(puente)
    await puente.start()
    procs = []
    try:
        for slug in slugs:
            await puente.tenants.create(NewTenant(slug=slug, name=slug, openai_key=KEY), "bench")
            env = {**os.environ, "PUENTE_RELAY_URL": f"ws://127.0.0.1:{port}/bridge", "PUENTE_TENANT": slug,
                   "PUENTE_BRIDGE_TOKEN": await puente.tenants.issue_bridge_token(slug),
                   "PUENTE_SESSION_DIR": str(workdir / "ext-sessions" / slug), "PUENTE_LOG_LEVEL": "warn"}
            procs.append(await asyncio.create_subprocess_exec(
                "node", str(ROOT / "bridge_node" / "src" / "main.mjs"), env=env, cwd=ROOT,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL))
        await welcomes.after(slugs, 0, 120)
        await asyncio.sleep(2)
        down = time.perf_counter()
        await puente.stop()
        await asyncio.sleep(args.down_seconds)
        puente = Puente(settings(workdir, port, ""), with_admin_bot=False)
        welcomes = Welcomes()
        welcomes.attach(puente)
        since = time.perf_counter()
        await puente.start()
        took = await welcomes.after(slugs, since, 120)
        result = stats(list(took.values()))
        result["relay_down_s"] = round(since - down, 3)
        return {"relay_restart_external": result}
    finally:
        await puente.stop()
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        await asyncio.gather(*(p.wait() for p in procs))


async def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="puente-recovery-") as tmp:
        control = Path(tmp) / "fake-socket.jsonl"
        control.write_text("")
        os.environ["PUENTE_FAKE_SOCKET"] = str(control)  # the relay passes its environment to bridges
        result = {"bridges": args.bridges, **await supervised(args, Path(tmp) / "a")}
        if not args.skip_external:
            result.update(await external(args, Path(tmp) / "b"))
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bridges", type=int, default=5)
    p.add_argument("--down-seconds", type=float, default=1.0, help="external case: relay down this long")
    p.add_argument("--skip-external", action="store_true")
    p.add_argument("--output", default=str(RESULTS / "recovery.json"))
    args = p.parse_args()
    result = asyncio.run(run(args))
    result["date"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    for key, value in result.items():
        print(f"{key}: {value}")
    append_run(Path(args.output), result)


if __name__ == "__main__":
    main()
