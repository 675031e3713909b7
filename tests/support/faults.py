"""Fault-injection rigs: the whole of Puente (the composition root) on loopback against the
fakes, with many tenants and chats, and the checks a customer would make: every message
got exactly one reply (or the tenant's fallback text), none twice, none lost."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from core.settings import Settings
from puente.app import Puente
from relay.message_log import open_message_log
from tenants.model import DEFAULT_FALLBACK_TEXT
from tenants.service import NewTenant
from tests.fakes import FakeBridge, FakeOpenAI, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
ADMIN = 7001
SECOND_ADMIN = 7002
KEY = "sk-test-faults-" + "q7" * 12
SECRET_KEY = "x9YbqKkD5mJ8tWq2V3c7N1pL6rT0sA4eF8gH2jK5mN0="
PREFIX = "Respuesta a: "
FALLBACK = DEFAULT_FALLBACK_TEXT


def free_port() -> int:
    """A loopback TCP port free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def customer_phone(tenant_no: int, chat_no: int) -> str:
    """A distinct customer phone per tenant and chat."""
    return f"569{tenant_no:02d}{chat_no:05d}"


def chat_jid(phone: str) -> str:
    return f"{phone}@s.whatsapp.net"


def message_text(slug: str, chat_no: int, n: int) -> str:
    """A customer text unique across the whole scenario (so its reply names it)."""
    return f"{slug}-c{chat_no}-m{n}"


# --- what the customers saw --------------------------------------------------------


def delivered_by_chat(sent: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """Texts per chat as WhatsApp delivered them: one per ref (a real bridge's send is
    idempotent by ref), in order."""
    seen: set[str] = set()
    out: dict[str, list[str]] = defaultdict(list)
    for item in sent:
        ref = item.get("ref")
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        out[item["chat"]].append(item["text"])
    return dict(out)


def answered(texts: Iterable[str]) -> Counter:
    """How many replies named each customer text (FakeOpenAI answers "Respuesta a: <turn>",
    a turn being the lines of the messages it took)."""
    counts: Counter = Counter()
    for text in texts:
        if text.startswith(PREFIX):
            for line in text[len(PREFIX):].split("\n"):
                counts[line] += 1
    return counts


def reply_problems(expected: dict[str, list[str]], delivered: dict[str, list[str]], *,
                   failed: set[str] = frozenset(), fallback: str = FALLBACK) -> list[str]:
    """What a customer would complain about; [] when every chat is right.

    `expected` is chat -> the customer texts. Each must be named by exactly one reply, or be
    in `failed` (its turn gave up) and its chat have seen the fallback; the fallback comes at
    most once per chat (it is sent once an hour), every delivered text is distinct, and
    nothing arrives in a chat nobody wrote to."""
    problems: list[str] = []
    for chat in sorted(set(delivered) - set(expected)):
        problems.append(f"{chat}: unexpected texts {delivered[chat]}")
    for chat, texts in sorted(expected.items()):
        got = delivered.get(chat, [])
        counts = answered(got)
        fallbacks = got.count(fallback)
        if fallbacks > 1:
            problems.append(f"{chat}: the fallback {fallbacks} times")
        others = [t for t in got if t != fallback and not t.startswith(PREFIX)]
        if others:
            problems.append(f"{chat}: unexpected texts {others}")
        dupes = [t for t, n in Counter(got).items() if n > 1 and t != fallback]
        if dupes:
            problems.append(f"{chat}: the same text twice: {dupes}")
        for text in texts:
            n = counts.pop(text, 0)
            if n == 1:
                continue
            if n == 0 and text in failed and fallbacks == 1:
                continue
            problems.append(f"{chat}: {text!r} answered {n} times" + (" (failed, no fallback)" if text in failed else ""))
        if counts:
            problems.append(f"{chat}: replies to texts never sent: {dict(counts)}")
    return problems


def openai_problems(requests: Iterable[Any], expected: Iterable[str]) -> list[str]:
    """What the client would pay for twice: every customer text must be in exactly one
    completed OpenAI response (a turn may hold several texts, one per line); [] when so.

    `requests` are FakeOpenAI.response_requests (completed responses only)."""
    counts = Counter(line for request in requests for line in request.user_text.splitlines())
    problems = [f"{text!r} sent to OpenAI {counts[text]} times" for text in expected if counts[text] != 1]
    wanted = set(expected)
    problems += [f"{text!r} sent to OpenAI but never written" for text in counts if text not in wanted]
    return problems


async def wait_until(check: Callable[[], Any], timeout: float, what: str | Callable[[], str],
                     interval: float = 0.05) -> Any:
    """Poll `check` (sync or async) until truthy; AssertionError naming `what` after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what() if callable(what) else what}")
        await asyncio.sleep(interval)


# --- the whole relay in-process -------------------------------------------------------


def fault_settings(data_dir: Path, *, telegram: FakeTelegram | None, openai: FakeOpenAI, port: int = 0,
                   bridge_command: str = "", **overrides: Any) -> Settings:
    """Settings for a Puente on loopback against the fakes."""
    values: dict[str, Any] = dict(
        openai_base_url=f"{openai.url}/v1", data_dir=data_dir, http_host="127.0.0.1", http_port=port, ops_port=0,
        public_url="https://puente.example", bridge_command=bridge_command, secret_key=SECRET_KEY,
        log_level="debug",
    )
    if telegram is not None:
        values.update(telegram_bot_token=telegram.token, telegram_admin_ids=(ADMIN, SECOND_ADMIN),
                      telegram_api_url=telegram.url)
    values.update(overrides)
    return Settings(_env_file=None, **values)


class FaultWorld:
    """FakeOpenAI (+ FakeTelegram) and one in-process Puente, with tenants and fake bridges."""

    def __init__(self, tmp_path: Path, *, openai: FakeOpenAI | None = None, with_admin_bot: bool = False,
                 bridge_command: str = "", **settings: Any) -> None:
        self.tmp_path = tmp_path
        self.openai = openai or FakeOpenAI()
        self.telegram = FakeTelegram() if with_admin_bot else None
        self.with_admin_bot = with_admin_bot
        self.bridge_command = bridge_command
        self.extra_settings = settings
        self.bridges: dict[str, FakeBridge] = {}
        self.puente: Puente | None = None

    async def start(self) -> FaultWorld:
        await self.openai.start()
        if self.telegram is not None:
            await self.telegram.start()
        self.settings = fault_settings(self.tmp_path / "data", telegram=self.telegram, openai=self.openai,
                                       bridge_command=self.bridge_command, **self.extra_settings)
        self.puente = Puente(self.settings, with_admin_bot=self.with_admin_bot)
        await self.puente.start()
        return self

    async def stop(self) -> None:
        for bridge in self.bridges.values():
            await bridge.stop()
        if self.puente is not None:
            await self.puente.stop()
        if self.telegram is not None:
            await self.telegram.stop()
        await self.openai.stop()

    async def __aenter__(self) -> FaultWorld:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def bridge_url(self) -> str:
        return f"ws://127.0.0.1:{self.puente.http.port}/bridge"

    async def add_tenant(self, slug: str, *, name: str | None = None, **changes: Any) -> str:
        """A tenant answering each message as its own turn (debounce 0) unless told otherwise."""
        await self.puente.tenants.create(NewTenant(slug, name or slug.title(), KEY), "test")
        changes.setdefault("debounce_seconds", 0)
        await self.puente.tenants.update_settings(slug, "test", **changes)
        return slug

    async def connect(self, slug: str, **kwargs: Any) -> FakeBridge:
        """A FakeBridge for `slug`, connected and reporting `connected`."""
        token = await self.puente.tenants.issue_bridge_token(slug)
        kwargs.setdefault("phone", "56900000000")
        bridge = FakeBridge(self.bridge_url, slug, token, **kwargs)
        await bridge.start()
        self.bridges[slug] = bridge
        await wait_until(lambda: self.puente.bridges.is_connected(slug)
                         and self.puente.states.get(slug).state == "connected", 5, f"{slug} connected")
        return bridge

    async def outbox_empty(self) -> bool:
        return not await self.puente.pipeline.outbox.tenants()

    async def quiet(self, timeout: float = 10.0) -> None:
        """Wait until every message is handled, no turn runs and the outbox is empty."""
        await self.puente.bus.drain()
        await wait_until(lambda: self.puente.pipeline.busy() == 0, timeout, "idle pipeline")
        await wait_until(self.outbox_empty, timeout, "an empty outbox")
        await self.puente.bus.drain()


async def failed_ids(db, tenant: str) -> set[str]:
    """Ids of the tenant's messages whose turn gave up."""
    return await open_message_log(db).failed_ids(tenant)


def subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    """The test's environment without Puente settings, plus `extra` and the repo on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "MONGODB_", "HTTP_", "SMTP_", "OPENAI_", "DATA_DIR", "BRIDGE_", "PUENTE_",
                                "OPS_"))}
    env.update(PYTHONPATH=str(ROOT), OPS_PORT=str(free_port()), **extra)
    return env


PYTHON = sys.executable
