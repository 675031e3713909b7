"""`puente run` is killed with SIGKILL while customers of three tenants write, and started
again on the same data: the bridges resend what was never acked, the relay answers what it
recorded but never answered and resends what it never saw confirmed. Every message gets
exactly one reply, none twice."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from puente.app import Puente
from tenants.service import NewTenant
from tests.fakes import FakeBridge, FakeOpenAI, FakeTelegram
from tests.support.faults import (
    ADMIN,
    KEY,
    PYTHON,
    SECRET_KEY,
    chat_jid,
    customer_phone,
    delivered_by_chat,
    fault_settings,
    free_port,
    message_text,
    reply_problems,
    subprocess_env,
    wait_until,
)

TENANTS = ("caida-uno", "caida-dos", "caida-tres")
CHATS, PER_CHAT = 4, 4  # 48 messages


async def prepare(data_dir: Path, telegram: FakeTelegram, openai: FakeOpenAI) -> dict[str, str]:
    """Tenants and bridge tokens, made by an in-process Puente on the data the process will use."""
    puente = Puente(fault_settings(data_dir, telegram=telegram, openai=openai), with_admin_bot=False)
    await puente.start()
    try:
        tokens = {}
        for slug in TENANTS:
            await puente.tenants.create(NewTenant(slug, slug.title(), KEY), "test")
            await puente.tenants.update_settings(slug, "test", debounce_seconds=0)
            tokens[slug] = await puente.tenants.issue_bridge_token(slug)
        return tokens
    finally:
        await puente.stop()


class RelayProcess:
    """`python -m relay.cli run` on a fixed port; its stderr goes to a file."""

    def __init__(self, tmp_path: Path, env: dict[str, str], port: int) -> None:
        self.tmp_path, self.env, self.port = tmp_path, env, port
        self.proc: asyncio.subprocess.Process | None = None
        self.runs = 0

    async def start(self) -> None:
        self.runs += 1
        log = open(self.tmp_path / f"relay-{self.runs}.log", "wb")
        self.proc = await asyncio.create_subprocess_exec(
            PYTHON, "-m", "puente.cli", "run", cwd=self.tmp_path, env=self.env, stdout=log, stderr=log)
        log.close()
        async with aiohttp.ClientSession() as http:
            async def ready() -> bool:
                if self.proc.returncode is not None:
                    raise AssertionError(f"puente run exited with {self.proc.returncode}: {self.output()[-2000:]}")
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False
            await wait_until(ready, 20, "puente run ready", interval=0.1)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp_path.glob("relay-*.log")))


async def test_relay_killed_mid_stream_loses_and_repeats_no_reply(tmp_path):
    async with FakeTelegram() as telegram, FakeOpenAI(latency=0.3) as openai:
        data_dir = tmp_path / "data"
        tokens = await prepare(data_dir, telegram, openai)
        port = free_port()
        env = subprocess_env({
            "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_ADMIN_IDS": str(ADMIN), "TELEGRAM_API_URL": telegram.url,
            "OPENAI_BASE_URL": f"{openai.url}/v1", "DATA_DIR": str(data_dir), "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port), "BRIDGE_COMMAND": "", "SECRET_KEY": SECRET_KEY, "LOG_LEVEL": "debug",
        })
        relay = RelayProcess(tmp_path, env, port)
        await relay.start()
        bridges = {slug: FakeBridge(f"ws://127.0.0.1:{port}/bridge", slug, tokens[slug], run_forever=True,
                                    backoff=(0.05, 0.3), handshake_timeout=10) for slug in TENANTS}
        try:
            for bridge in bridges.values():
                await bridge.start()
            expected = {slug: {chat_jid(customer_phone(t, c)): [] for c in range(CHATS)}
                        for t, slug in enumerate(TENANTS)}

            async def write(n: int) -> None:
                for t, slug in enumerate(TENANTS):
                    for c in range(CHATS):
                        text = message_text(slug, c, n)
                        await bridges[slug].send_message(customer_phone(t, c), text)
                        expected[slug][chat_jid(customer_phone(t, c))].append(text)
                        await asyncio.sleep(0.01)

            def replies() -> int:
                return sum(len(b.sent) for b in bridges.values())

            await write(0)
            await write(1)
            await wait_until(lambda: replies() >= 8, 10, "the first replies")
            relay.kill()  # mid-stream: turns at OpenAI, replies in flight, messages unacked
            await relay.proc.wait()
            sent_before = replies()
            await write(2)  # written while the relay is down
            await relay.start()
            await write(3)

            def problems() -> list[str]:
                return [p for slug in TENANTS
                        for p in reply_problems(expected[slug], delivered_by_chat(bridges[slug].sent))]

            await wait_until(lambda: not problems(), 30, lambda: f"every message answered once: {problems()}")
            await asyncio.sleep(1.5)  # nothing more arrives (no late duplicate)
            assert problems() == []
            assert sent_before < CHATS * len(TENANTS) * 2  # the kill really was mid-stream
            assert all(not b.unacked or all(f.get("sent_by_bridge") for f in b.unacked.values())
                       for b in bridges.values())
            assert sum(b.connections for b in bridges.values()) >= 2 * len(TENANTS)
        finally:
            for bridge in bridges.values():
                await bridge.stop()
            await relay.stop()
        output = relay.output()
        assert "Traceback" not in output, output[-3000:]
        assert KEY not in output and all(token not in output for token in tokens.values())
