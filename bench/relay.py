"""Relay throughput and latency under stepped load: `PYTHONPATH=. python bench/relay.py`.

Three processes on loopback:
  * this one runs the real relay (puente.app.Puente, admin bot off, the embedded store in a
    temporary DATA_DIR unless MONGODB_URI is set; debounce 0 for every tenant);
  * bench/openai_process.py runs the fake OpenAI API (fixed latency, default 0);
  * bench/relay_load.py runs N fake bridges speaking docs/PROTOCOL.md, offers the load and
    measures, per message, the time from its `message` frame to the `send` frame that
    answers it, minus the fake OpenAI's latency.

Prints one line per step and writes bench/results/relay.json (and relay.png when
matplotlib is installed). With --profile FILE the relay runs under pyinstrument and an
HTML profile is written there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import append_run
from core.settings import Settings  # noqa: E402
from puente.app import Puente  # noqa: E402
from tenants.service import NewTenant  # noqa: E402

RESULTS = ROOT / "bench" / "results"
KEY = "sk-test-" + "bench" * 8
# Bumped when the harness changes how figures are made; only the newest version is plotted.
# 1: warm-up at 100/s not drained before the steps; 2: warm-up drained, saturation stop;
# 3: messages answered together in one turn (a chat's burst) counted as answered, not lost.
HARNESS = 3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tenants", type=int, default=50)
    p.add_argument("--chats", type=int, default=20, help="chats per tenant")
    p.add_argument("--rates", default="25,50,100,200,400", help="offered messages per second, one step each")
    p.add_argument("--step-seconds", type=float, default=10.0)
    p.add_argument("--warmup-rate", type=float, default=25.0,
                   help="first message of every chat (conversation creation) at this rate, not measured; 0 skips")
    p.add_argument("--drain-seconds", type=float, default=30.0, help="wait this long for late replies after a step")
    p.add_argument("--keep-going", action="store_true", help="run every step even after one saturated the relay")
    p.add_argument("--openai-latency", type=float, default=0.0, help="seconds the fake OpenAI takes per response")
    p.add_argument("--no-echo", action="store_true", help="the fake bridges do not echo sent texts back")
    p.add_argument("--label", default="", help="a name for this run in relay.json")
    p.add_argument("--output", default=str(RESULTS / "relay.json"))
    p.add_argument("--profile", default="", help="write a pyinstrument HTML profile of the relay here")
    p.add_argument("--trace-store", action="store_true", help="print the store commands that took the most time")
    p.add_argument("--store", choices=("sqlite", "mongoeco"), default="sqlite",
                   help="the embedded store to run on (MONGODB_URI, when set, wins)")
    return p.parse_args(argv)


def start_fake_openai(latency: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.openai_process", str(latency)], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("the fake OpenAI process did not start")
    return proc, url


async def prepare(puente: Puente, tenants: int) -> list[dict[str, str]]:
    out = []
    for n in range(tenants):
        slug = f"bench-{n:03d}"
        await puente.tenants.create(NewTenant(slug=slug, name=f"Bench {n}", openai_key=KEY), "bench")
        await puente.tenants.update_settings(slug, "bench", debounce_seconds=0)
        out.append({"slug": slug, "token": await puente.tenants.issue_bridge_token(slug)})
    return out


async def run_relay(args: argparse.Namespace, openai_url: str, workdir: Path) -> dict:
    settings = Settings(
        data_dir=workdir / "data", http_host="127.0.0.1", http_port=0, bridge_command="",
        openai_base_url=f"{openai_url}/v1", mongodb_uri=os.environ.get("MONGODB_URI") or None,
        mongodb_db=f"puente_bench_{os.getpid()}", log_level="warning", embedded_store=args.store,
    )
    puente = Puente(settings, with_admin_bot=False)
    await puente.start()
    try:
        tenants = await prepare(puente, args.tenants)
        config = {
            "url": f"ws://127.0.0.1:{puente.http.port}/bridge", "tenants": tenants, "chats": args.chats,
            "rates": [float(r) for r in args.rates.split(",")], "step_seconds": args.step_seconds,
            "warmup_rate": args.warmup_rate, "drain_seconds": args.drain_seconds,
            "openai_latency": args.openai_latency, "echo": not args.no_echo,
            "stop_when_saturated": not args.keep_going,
        }
        cfg_path, out_path = workdir / "load.json", workdir / "load-result.json"
        cfg_path.write_text(json.dumps(config))
        load = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.relay_load", str(cfg_path), str(out_path), cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE,
        )
        cpu = relay_cpu_seconds(puente)
        steps_cpu: dict[str, float] = {}
        async for line in load.stderr:
            text = line.decode().rstrip()
            if text.startswith("{"):
                step = json.loads(text)
                now_cpu = relay_cpu_seconds(puente)
                if step.get("answered"):
                    steps_cpu[str(step["step"])] = round((now_cpu - cpu) * 1000 / step["answered"], 2)
                    step["relay_cpu_ms_per_msg"] = steps_cpu[str(step["step"])]
                cpu = now_cpu
                print(format_step(step), flush=True)
            elif text:
                print("load:", text, file=sys.stderr)
        if await load.wait() != 0:
            raise SystemExit("the load generator failed")
        result = json.loads(out_path.read_text())
        for step in result.get("steps", []):
            if str(step.get("step")) in steps_cpu:
                step["relay_cpu_ms_per_msg"] = steps_cpu[str(step["step"])]
        if args.mongodb_cleanup:
            await puente.store.db.client.drop_database(settings.mongodb_db)
        return result
    finally:
        await puente.stop()


def relay_cpu_seconds(puente: Puente) -> float:
    """CPU time of the relay: this process (its store thread included) and, for mongoeco in a
    process of its own, that process too."""
    total = time.process_time()
    process = getattr(puente.store, "_process", None)
    if process is not None and process.pid:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def format_step(s: dict) -> str:
    if "totals" in s:
        t = s["totals"]
        return f"   total  sent {t['sent']:>5}  never answered (lost) {t['lost']}  duplicated {t['duplicated']}"
    if "skipped" in s:
        return f"{s['step']:>8}  skipped: the previous step saturated the relay"
    return (f"{s['step']:>8}  sent {s['sent']:>5}  answered {s['answered']:>5}  "
            f"achieved {s['achieved_rate']:>6}/s  p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  "
            f"p99 {s['p99_ms']} ms  max {s['max_ms']} ms  late {s['late']}  dup {s['duplicated']}"
            f"  cpu {s.get('relay_cpu_ms_per_msg', '?')} ms/msg")


def machine() -> dict:
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return {"cores": os.cpu_count(), "memory_gb": round(mem_kb / 2**20, 1), "python": platform.python_version()}


PLOTTED = 5


def plot(runs: list[dict], path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib); the JSON is written", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    # The last PLOTTED runs of this harness, each in one colour (p50 solid, p99 dashed);
    # every run stays in the JSON.
    shown = [r for r in runs if r.get("harness", 1) == HARNESS][-PLOTTED:]
    for n, run in enumerate(shown):
        steps = [s for s in run["steps"] if s["step"] != "warmup" and s.get("p50_ms") is not None]
        x = [s["offered_rate"] for s in steps]
        colour = f"C{n}"
        for key, style in (("p50_ms", "-o"), ("p99_ms", "--s")):
            ax.plot(x, [s[key] for s in steps], style, color=colour, label=f"{run['label']} {key[:3]}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("offered load (messages/s)")
    ax.set_ylabel("relay latency, message -> send, minus OpenAI (ms)")
    ax.axhline(100, color="grey", lw=0.5)
    ax.axhline(250, color="grey", lw=0.5)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> None:
    args = parse_args()
    args.mongodb_cleanup = bool(os.environ.get("MONGODB_URI"))
    logging.basicConfig(level=logging.WARNING)
    openai_proc, openai_url = start_fake_openai(args.openai_latency)
    trace = None
    if args.trace_store:
        from bench.store_trace import install
        trace = install()
    profiler = None
    if args.profile:
        from pyinstrument import Profiler
        profiler = Profiler(async_mode="disabled")
        profiler.start()
    try:
        with tempfile.TemporaryDirectory(prefix="puente-bench-") as tmp:
            started = time.time()
            result = asyncio.run(run_relay(args, openai_url, Path(tmp)))
    finally:
        openai_proc.stdin.close()
        openai_proc.wait(10)
    if trace is not None:
        print(trace.report())
    if profiler is not None:
        profiler.stop()
        Path(args.profile).write_text(profiler.output_html())
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000])
    run = {
        "label": args.label or time.strftime("%Y-%m-%d %H:%M", time.localtime(started)),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "machine": machine(), "store": "mongodb" if args.mongodb_cleanup else args.store,
        "tenants": args.tenants, "chats_per_tenant": args.chats, "openai_latency_s": args.openai_latency,
        "echo": not args.no_echo, "warmup_rate": args.warmup_rate, "harness": HARNESS, **result,
    }
    out = Path(args.output)
    plot(append_run(out, run, key="label"), out.with_suffix(".png"))


if __name__ == "__main__":
    main()
