"""The load generator of bench/relay.py: N fake bridges in their own process.

Run by bench/relay.py as a child process (`python -m bench.relay_load CONFIG.json`), so
its CPU is not the relay's. It speaks docs/PROTOCOL.md like a bridge: hello, status
`connected`, then `message` frames at a stepped, open-loop rate (round robin over every
tenant's chats, so one chat is not written again while its previous turn is likely still
in flight). It answers every `send` with a `result` and echoes the sent text back as a
`message` with `sent_by_bridge` (as the Node bridge does), and times each customer
message from its `message` frame to the `send` frame that answers it.

The fake OpenAI answers "Respuesta a: <text>", with several messages of one turn joined
by newlines, so every line of a `send` names the message it answers.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

REPLY_PREFIX = "Respuesta a: "


@dataclass
class Sample:
    """One customer message: when it left and when (and how often) it was answered."""

    step: int
    sent_at: float
    answered_at: float | None = None
    refs: set[str] = field(default_factory=set)


class Bridge:
    """One tenant's fake bridge connection."""

    def __init__(self, gen: LoadGenerator, slug: str, token: str) -> None:
        self.gen, self.slug, self.token = gen, slug, token
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task | None = None

    async def connect(self, session: aiohttp.ClientSession, url: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "X-Puente-Tenant": self.slug}
        self.ws = await session.ws_connect(url, headers=headers, heartbeat=20, max_msg_size=21 * 2**20)
        await self.ws.send_json({"type": "hello", "protocol": 1, "tenant": self.slug, "bridge_version": "bench/1"})
        welcome = await self.ws.receive_json(timeout=10)
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"{self.slug}: no welcome: {welcome}")
        await self.ws.send_json({"type": "status", "state": "connected", "phone": "56900000000",
                                 "name": "Bench", "at": _iso()})
        self.reader = asyncio.create_task(self._read())

    async def message(self, chat: str, msg_id: str, text: str, *, from_me: bool = False,
                      sent_by_bridge: bool = False) -> None:
        frame = {"type": "message", "id": msg_id, "chat": chat, "sender": chat, "from_me": from_me,
                 "sent_by_bridge": sent_by_bridge, "timestamp": int(time.time()), "is_group": False,
                 "kind": "text", "text": text}
        if not from_me:
            frame["sender_phone"] = chat.split("@")[0]
            frame["push_name"] = "Cliente"
        await self.ws.send_str(json.dumps(frame))

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            now = time.perf_counter()
            frame = json.loads(msg.data)
            kind = frame.get("type")
            if kind == "send":
                self.gen.on_send(frame, now)
                sent_id = "3EB0" + secrets.token_hex(8).upper()
                await self.ws.send_str(json.dumps({"type": "result", "ref": frame["ref"], "ok": True,
                                                   "message_id": sent_id}))
                if self.gen.echo:
                    await self.message(frame["chat"], sent_id, frame.get("text"), from_me=True, sent_by_bridge=True)
            elif kind == "ack":
                self.gen.acks += 1
            elif kind == "result":
                pass


class LoadGenerator:
    """Drives every bridge through the configured steps and collects the samples."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.echo = config.get("echo", True)
        self.samples: dict[str, Sample] = {}
        self.unknown_sends = 0
        self.acks = 0
        self.send_frames = 0

    def on_send(self, frame: dict[str, Any], now: float) -> None:
        self.send_frames += 1
        text = frame.get("text") or ""
        for line in text.split("\n"):
            # A turn that took several messages of a chat (they arrived while its previous
            # turn was answered) names them one per line, the prefix on the first only.
            sample = self.samples.get(line.removeprefix(REPLY_PREFIX).strip())
            if sample is None:
                self.unknown_sends += 1
                continue
            if sample.answered_at is None:
                sample.answered_at = now
            sample.refs.add(frame["ref"])

    async def run(self) -> dict[str, Any]:
        cfg = self.config
        bridges = [Bridge(self, t["slug"], t["token"]) for t in cfg["tenants"]]
        chats = [(b, f"569{n:08d}@s.whatsapp.net") for n in range(cfg["chats"]) for b in bridges]
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(b.connect(session, cfg["url"]) for b in bridges))
            await asyncio.sleep(1.0)  # statuses settle
            steps = []
            cursor = 0
            plan = ([("warmup", cfg["warmup_rate"], len(chats) / cfg["warmup_rate"])] if cfg["warmup_rate"] else [])
            plan += [(f"{rate}/s", rate, cfg["step_seconds"]) for rate in cfg["rates"]]
            saturated = False
            for index, (label, rate, seconds) in enumerate(plan):
                if saturated:
                    result = {"step": label, "offered_rate": rate, "skipped": "saturated"}
                else:
                    cursor, result = await self._step(index, label, rate, seconds, chats, cursor)
                    # A step that leaves replies outstanding after its drain is past capacity:
                    # higher steps would only pile onto its backlog.
                    saturated = label != "warmup" and result["late"] > 0 and cfg.get("stop_when_saturated", True)
                steps.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
            deadline = time.perf_counter() + cfg.get("final_drain_seconds", 120)
            while time.perf_counter() < deadline and any(s.answered_at is None for s in self.samples.values()):
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            for b in bridges:
                await b.ws.close()
        totals = {"sent": len(self.samples),
                  "lost": sum(1 for s in self.samples.values() if s.answered_at is None),
                  "duplicated": sum(1 for s in self.samples.values() if len(s.refs) > 1)}
        print(json.dumps({"totals": totals}), file=sys.stderr, flush=True)
        return {"steps": steps, "totals": totals, "unknown_sends": self.unknown_sends, "send_frames": self.send_frames}

    async def _step(self, index: int, label: str, rate: float, seconds: float,
                    chats: list[tuple[Bridge, str]], cursor: int) -> tuple[int, dict[str, Any]]:
        total = int(rate * seconds)
        ids: list[str] = []
        start = time.perf_counter()
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            bridge, chat = chats[cursor % len(chats)]
            cursor += 1
            msg_id = f"B{index}x{i}x{secrets.token_hex(3)}"
            self.samples[msg_id] = Sample(index, time.perf_counter())
            ids.append(msg_id)
            await bridge.message(chat, msg_id, msg_id)
        offered_end = time.perf_counter()
        # The warmup must be fully answered before the measured steps, whatever it takes.
        drain = self.config["drain_seconds"] if label != "warmup" else max(120, self.config["drain_seconds"])
        deadline = offered_end + drain
        while time.perf_counter() < deadline and any(self.samples[i].answered_at is None for i in ids):
            await asyncio.sleep(0.05)
        await asyncio.sleep(self.config.get("settle_seconds", 0.5))  # late duplicates show up here
        return cursor, self._summarise(label, rate, start, offered_end, ids)

    def _summarise(self, label: str, rate: float, start: float, offered_end: float, ids: list[str]) -> dict[str, Any]:
        latency = self.config["openai_latency"]
        answered = [self.samples[i] for i in ids if self.samples[i].answered_at is not None]
        lat_ms = sorted(max(0.0, (s.answered_at - s.sent_at - latency)) * 1000 for s in answered)
        last = max((s.answered_at for s in answered), default=offered_end)
        duplicated = sum(1 for s in answered if len(s.refs) > 1)
        return {
            "step": label, "offered_rate": rate, "sent": len(ids), "answered": len(answered),
            # late: not answered within the drain after the step (answered later, or lost:
            # the run's totals say which)
            "late": len(ids) - len(answered), "duplicated": duplicated,
            "offered_seconds": round(offered_end - start, 3),
            "achieved_rate": round(len(answered) / (last - start), 1) if answered else 0.0,
            "p50_ms": _pct(lat_ms, 50), "p95_ms": _pct(lat_ms, 95), "p99_ms": _pct(lat_ms, 99),
            "max_ms": round(lat_ms[-1], 1) if lat_ms else None,
        }


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return round(values[k], 1)


def _iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def main() -> None:
    with open(sys.argv[1]) as f:
        config = json.load(f)
    result = asyncio.run(LoadGenerator(config).run())
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
