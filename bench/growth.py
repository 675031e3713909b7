"""How the relay's cost grows with what is stored: `PYTHONPATH=. python bench/growth.py`.

For each store (the SQLite default and the former mongoeco engine), the store is filled
step by step to 1k, 10k and 100k chats over 50 tenants, each chat with a conversation and
10 logged messages (1M at 100k, in the dedupe window and the daily counts), written as the
MongoDB back-end shapes them and loaded through each back-end's own path (the SQLite
importer, or `insert_many`). At each size the real relay (puente.app.Puente, admin bot
off) starts on that data and a fake bridge sends, one at a time:
  * `new`: the first message of a customer never seen before;
  * `known`: a message of a stored customer (its conversation known to the fake OpenAI).
Latency = the `message` frame sent -> the `send` frame answering it received, with the fake
OpenAI answering at once (in this process), so it is the relay's own time plus loopback.

Prints a table and writes bench/results/growth.json. A store whose filling takes longer
than --max-fill-seconds in all stops there ("not reached").
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import append_run  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.store import Store  # noqa: E402
from puente.app import Puente  # noqa: E402
from relay.chats import sqlite as chats_sqlite  # noqa: E402
from relay.message_log import sqlite as log_sqlite  # noqa: E402
from tenants.service import NewTenant  # noqa: E402
from tests.fakes import FakeBridge, FakeOpenAI  # noqa: E402

KEY = "sk-test-" + "growth" * 6
TENANTS = 50
PER_CHAT = 10


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stores", default="sqlite,mongoeco")
    p.add_argument("--sizes", default="1000,10000,100000", help="chats stored before each measurement")
    p.add_argument("--samples", type=int, default=200, help="messages measured per kind and size")
    p.add_argument("--max-fill-seconds", type=float, default=300.0)
    p.add_argument("--output", default=str(ROOT / "bench" / "results" / "growth.json"))
    return p.parse_args()


def chat_of(n: int) -> tuple[str, str]:
    return f"growth-{n % TENANTS:02d}", f"5699{n:08d}@s.whatsapp.net"


def documents(first: int, last: int, now: datetime) -> tuple[list[dict], list[dict]]:
    """Chats first..last-1 and their message logs, as the MongoDB back-end stores them."""
    chats, logs = [], []
    day = now.strftime("%Y-%m-%d")
    for n in range(first, last):
        tenant, chat = chat_of(n)
        when = now - timedelta(minutes=n % 600)
        chats.append({"_id": f"{tenant}|{chat}", "tenant": tenant, "chat": chat, "name": f"Cliente {n}",
                      "phone": chat.split("@")[0], "conversation_id": f"conv_growth_{n}", "pause_kind": None,
                      "last_customer_at": when, "last_activity_at": when})
        logs.append({"_id": f"{tenant}|{chat}", "tenant": tenant, "chat": chat, "last_at": when,
                     "seen": [f"G{n}M{m}" for m in range(PER_CHAT)], "pending": [], "failed": [], "outbox": [],
                     "days": {day: {"in": PER_CHAT, "answered": PER_CHAT}}})
    return chats, logs


async def fill(store: Store, first: int, last: int, now: datetime, deadline: float) -> bool:
    """Store chats first..last-1; False if the deadline (time.perf_counter()) passed first."""
    batch = 5000 if store.kind == "sqlite" else 500
    for start in range(first, last, batch):
        if time.perf_counter() > deadline:
            return False
        chats, logs = documents(start, min(last, start + batch), now)
        if store.kind == "sqlite":
            await store.db.write(lambda conn: (chats_sqlite.import_documents(conn, chats),
                                               log_sqlite.import_documents(conn, logs)))
        else:
            await store.db["chats"].insert_many(chats)
            await store.db["message_log"].insert_many(logs)
    return True


async def measure(puente: Puente, openai: FakeOpenAI, size: int, samples: int, rng: random.Random) -> dict:
    bridges: dict[str, FakeBridge] = {}
    try:
        for n in range(TENANTS):
            slug = f"growth-{n:02d}"
            token = await puente.tenants.issue_bridge_token(slug)
            bridges[slug] = FakeBridge(f"ws://127.0.0.1:{puente.http.port}/bridge", slug, token, echo_sends=True)
            await bridges[slug].start()
        for n, (slug, bridge) in enumerate(bridges.items()):  # warm-up: each tenant's OpenAI client, caches
            await bridge.send_message(f"5677{size:08d}{n:03d}", "hola")
        await asyncio.gather(*(b.changes.wait_until(lambda b=b: b.sent, 30, "warm-up") for b in bridges.values()))
        out = {}
        for kind in ("new", "known"):
            latencies = []
            for i in range(samples):
                if kind == "known":
                    n = rng.randrange(size)
                    slug, chat = chat_of(n)
                    openai.conversations.setdefault(f"conv_growth_{n}", [])
                else:
                    slug, chat = f"growth-{i % TENANTS:02d}", f"5688{size:08d}{i:05d}@s.whatsapp.net"
                bridge = bridges[slug]
                before = len(bridge.sent)
                started = time.perf_counter()
                await bridge.send_message(chat.split("@")[0], f"hola {kind} {i}")
                await bridge.changes.wait_until(lambda b=bridge, k=before: len(b.sent) > k, 30, "the reply")
                latencies.append((time.perf_counter() - started) * 1000)
            latencies.sort()
            out[kind] = {"p50_ms": round(statistics.median(latencies), 2),
                         "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
                         "max_ms": round(latencies[-1], 2)}
        return out
    finally:
        for bridge in bridges.values():
            await bridge.stop()


async def run_store(kind: str, sizes: list[int], args: argparse.Namespace, workdir: Path) -> list[dict]:
    data_dir = workdir / kind
    rows: list[dict] = []
    rng = random.Random(7)
    now = datetime.now(UTC)
    async with FakeOpenAI() as openai:
        settings = Settings(data_dir=data_dir, http_host="127.0.0.1", http_port=0, ops_port=0, bridge_command="",
                            openai_base_url=f"{openai.url}/v1", log_level="warning", embedded_store=kind,
                            telegram_bot_token=None)
        puente = Puente(settings, with_admin_bot=False)
        await puente.start()
        for n in range(TENANTS):
            slug = f"growth-{n:02d}"
            await puente.tenants.create(NewTenant(slug=slug, name=slug, openai_key=KEY), "bench")
            await puente.tenants.update_settings(slug, "bench", debounce_seconds=0, memory_hours=24 * 30)
        stored, deadline = 0, time.perf_counter() + args.max_fill_seconds
        for size in sizes:
            started = time.perf_counter()
            if not await fill(puente.store, stored, size, now, deadline):
                print(f"{kind}: filling to {size} chats passed {args.max_fill_seconds:.0f} s; not reached", flush=True)
                rows += [{"store": kind, "chats": later, "not_reached": True} for later in sizes if later >= size]
                break
            stored = size
            print(f"{kind}: {size} chats, {size * PER_CHAT} logged messages stored "
                  f"({time.perf_counter() - started:.1f} s to fill)", flush=True)
            figures = await measure(puente, openai, size, args.samples, rng)
            rows.append({"store": kind, "chats": size, "messages": size * PER_CHAT, **figures})
            print(f"{kind:>8} {size:>7} chats  new p50 {figures['new']['p50_ms']} ms p99 {figures['new']['p99_ms']} ms"
                  f"  known p50 {figures['known']['p50_ms']} ms p99 {figures['known']['p99_ms']} ms", flush=True)
        await puente.stop()
    return rows


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[dict] = []
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="puente-growth-") as tmp:
        for kind in args.stores.split(","):
            rows += asyncio.run(run_store(kind, sizes, args, Path(tmp)))
    print("\n| store | chats | logged messages | new p50 / p99 (ms) | known p50 / p99 (ms) |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        if r.get("not_reached"):
            print(f"| {r['store']} | {r['chats']:,} | | not reached | not reached |")
        else:
            print(f"| {r['store']} | {r['chats']:,} | {r['messages']:,} | {r['new']['p50_ms']} / {r['new']['p99_ms']}"
                  f" | {r['known']['p50_ms']} / {r['known']['p99_ms']} |")
    append_run(Path(args.output), {"label": time.strftime("%Y-%m-%d %H:%M", time.localtime(started)),
                                   "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
                                   "cores": os.cpu_count(), "samples": args.samples, "rows": rows}, key="label")


if __name__ == "__main__":
    main()
