"""The whole of Puente, wired by its composition root, against the fakes on loopback:
the operator creates a tenant in Telegram, gets the QR photo, the phone links, a customer
writes and gets OpenAI's answer, and the client's page shows "connected"."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.qr_watchers import open_qr_watchers
from core.settings import Settings
from puente.app import Puente
from tenants.service import NewTenant
from tests.fakes import FakeBridge, FakeOpenAI, FakeTelegram
from tests.support.faults import free_port, wait_until
from tests.support.processes import children, wait_ended

ROOT = Path(__file__).resolve().parent.parent
ADMIN = 4242
KEY = "sk-test-" + "e2e" * 10


@pytest.fixture
async def world(tmp_path):
    telegram, openai = FakeTelegram(), FakeOpenAI()
    await telegram.start()
    await openai.start()
    settings = Settings(
        telegram_bot_token=telegram.token, telegram_admin_ids=(ADMIN,), telegram_api_url=telegram.url,
        openai_base_url=f"{openai.url}/v1", data_dir=tmp_path / "data", http_host="127.0.0.1", http_port=0,
        public_url="https://puente.example", bridge_command="", ops_port=0,
    )
    puente = Puente(settings)
    await puente.start()
    yield puente, telegram, openai
    await puente.stop()
    await openai.stop()
    await telegram.stop()


async def test_operator_to_customer_end_to_end(world):
    puente, telegram, openai = world
    telegram.push_message(ADMIN, f"/newtenant panaderia-sol dueno@sol.cl {KEY}")
    created = await telegram.wait_for_message(ADMIN, lambda m: "panaderia-sol" in (m.body or ""), timeout=10)
    tenant = await puente.tenants.get("panaderia-sol")
    link = re.search(r"https://puente\.example(/c/[\w-]+)", created.body).group(1)
    assert KEY not in str([m.body for m in telegram.messages_in(ADMIN)])

    # BRIDGE_COMMAND is empty here, so the test plays the bridge with the token it issues.
    token = await puente.tenants.issue_bridge_token("panaderia-sol")
    bridge = FakeBridge(f"ws://127.0.0.1:{puente.http.port}/bridge", "panaderia-sol", token, state="waiting_qr")
    await bridge.connect()
    telegram.push_message(ADMIN, "/qr panaderia-sol")
    await bridge.send_qr("2@first-qr-payload")
    photo = await telegram.wait_for_message(ADMIN, lambda m: m.kind == "photo", timeout=10)

    await bridge.send_status("connected", phone="56911112222", name="Panadería Sol")
    await telegram.wait_for_message(
        ADMIN, lambda m: m.message_id == photo.message_id and "+56911112222" in (m.body or ""), timeout=10)

    await bridge.send_message("56933334444", "¿Tienen marraquetas?", push_name="Ana")
    sent = await bridge.wait_for_sent(timeout=10)
    assert sent[0]["chat"] == "56933334444@s.whatsapp.net"
    assert sent[0]["text"] == "Respuesta a: ¿Tienen marraquetas?"
    assert openai.response_requests[0].instructions == tenant.instructions

    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{puente.http.port}{link}") as page:
            body = await page.text()
        async with http.get(f"http://127.0.0.1:{puente.http.port}/readyz") as ready:
            assert ready.status == 200
    assert page.status == 200 and "2222" in body and "56911112222" not in body
    assert KEY not in body and token not in body
    await bridge.stop()


def _env(tmp_path: Path, telegram: FakeTelegram, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MONGODB_", "HTTP_", "SMTP_", "OPS_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_ADMIN_IDS=str(ADMIN), TELEGRAM_API_URL=telegram.url,
        DATA_DIR=str(tmp_path / "data"), HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), BRIDGE_COMMAND="",
        PYTHONPATH=str(ROOT),
    )
    env.update(OPS_PORT=str(free_port()))
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def puente_run(tmp_path, port: int, **env: str):
    """`puente run` as a subprocess in a process group of its own, with a fake Telegram API,
    once /readyz answers 200; yields (process, telegram)."""
    telegram = FakeTelegram()
    await telegram.start()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "puente.cli", "run", cwd=tmp_path, env=_env(tmp_path, telegram, port, **env),
        stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        await wait_until(lambda: _ready(port), 20, "puente run ready")
        yield proc, telegram
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await telegram.stop()


async def _ready(port: int) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as ready:
            return ready.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def exit_of(proc: asyncio.subprocess.Process, timeout: float) -> tuple[int, str]:
    """Its exit code and everything it wrote to stderr (read while waiting, so it never blocks)."""
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, stderr.decode()


async def test_puente_run_answers_then_stops_cleanly_on_sigterm(tmp_path, unused_tcp_port):
    async with puente_run(tmp_path, unused_tcp_port) as (proc, telegram):
        telegram.push_message(ADMIN, "/start")
        await telegram.wait_for_message(ADMIN, timeout=10)
        proc.send_signal(signal.SIGTERM)
        code, stderr = await exit_of(proc, 10)
        token_secret = telegram.token.split(":")[1]
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert token_secret not in stderr


def _fd_target(fd: str, pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except FileNotFoundError:  # closed between the listing and the reading
        return ""


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (from /proc: its socket inodes in LISTEN state)."""
    inodes = {target[8:-1] for target in map(_fd_target, os.listdir(f"/proc/{pid}/fd"), itertools.repeat(pid))
              if target.startswith("socket:[")}
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def test_the_default_store_has_no_server_no_port_and_no_process(tmp_path, unused_tcp_port):
    """The embedded SQLite store is a file used in-process: nobody on the machine can connect
    to it, and nothing else runs beside Puente."""
    ops = free_port()
    async with puente_run(tmp_path, unused_tcp_port, OPS_PORT=str(ops)) as (proc, _):
        assert listening_ports(proc.pid) == {unused_tcp_port, ops}  # the pages and the operations listener
        assert children(proc.pid) == []
        assert (tmp_path / "data" / "puente.db").stat().st_mode & 0o777 == 0o600


async def test_puente_run_exits_with_a_clear_message_when_its_store_process_dies(tmp_path, unused_tcp_port):
    """A supervisor (Docker, systemd) restarts Puente; a relay with no store must not linger.
    (The former embedded engine, mongoeco, runs in a process of its own; SQLite has none.)"""
    async with puente_run(tmp_path, unused_tcp_port, EMBEDDED_STORE="mongoeco") as (proc, _):
        store = [pid for pid in children(proc.pid)
                 if b"core.embedded_store" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(store) == 1
        os.kill(store[0], signal.SIGKILL)
        code, stderr = await exit_of(proc, 30)
    assert code == 1, stderr
    assert "puente: the embedded store process ended unexpectedly (exit code -9); Puente stopped" in stderr
    assert "Traceback" not in stderr, stderr


async def test_ctrl_c_stops_puente_run_and_its_store_process_cleanly(tmp_path, unused_tcp_port):
    """Ctrl-C in a terminal signals the whole process group, the mongoeco store process included."""
    async with puente_run(tmp_path, unused_tcp_port, EMBEDDED_STORE="mongoeco") as (proc, _):
        [store] = children(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        code, stderr = await exit_of(proc, 15)
    assert code == 0, stderr
    assert "Traceback" not in stderr and "unexpectedly" not in stderr, stderr
    await wait_ended(store, 5, "the store process to end")


async def test_the_qr_photo_is_still_edited_after_a_restart(world):
    """An operator linking a phone when Puente restarts keeps the same photo, refreshed."""
    puente, telegram, _ = world
    await puente.tenants.create(NewTenant(slug="panaderia-sol", name="Sol", openai_key=KEY), "test")
    token = await puente.tenants.issue_bridge_token("panaderia-sol")
    bridge = FakeBridge(f"ws://127.0.0.1:{puente.http.port}/bridge", "panaderia-sol", token, state="waiting_qr")
    await bridge.connect()
    await wait_until(lambda: puente.bridges.is_connected("panaderia-sol"), 5, "the bridge connected")
    telegram.push_message(ADMIN, "/qr panaderia-sol")
    await telegram.wait_for_message(ADMIN, lambda m: "Pidiendo un QR" in (m.body or ""), timeout=10)
    await bridge.send_qr("2@before-the-restart")
    photo = await telegram.wait_for_message(ADMIN, lambda m: m.kind == "photo", timeout=10)
    await bridge.stop()
    await puente.stop()

    again = Puente(puente.settings)  # the same DATA_DIR
    await again.start()
    bridge = FakeBridge(f"ws://127.0.0.1:{again.http.port}/bridge", "panaderia-sol", token, state="waiting_qr")
    try:
        await bridge.connect()
        await bridge.send_qr("2@after-the-restart")
        await telegram.wait_for_message(ADMIN, lambda m: m is photo and len(m.edits) == 1, timeout=10)
        assert [m for m in telegram.messages_in(ADMIN) if m.kind == "photo"] == [photo]
        await bridge.send_status("connected", phone="56911112222", name="Sol")
        await telegram.wait_for_message(
            ADMIN, lambda m: m is photo and "+56911112222" in (m.caption or ""), timeout=10)
        assert await open_qr_watchers(again.store.db).all() == {}  # linked: nobody watches any more
    finally:
        await bridge.stop()
        await again.stop()


async def test_deleting_a_tenant_deletes_its_conversations_at_openai(world):
    """Customers were promised that conversations are forgotten; a deleted tenant keeps that promise."""
    puente, telegram, openai = world
    await puente.tenants.create(NewTenant(slug="panaderia-sol", name="Sol", openai_key=KEY), "test")
    await puente.tenants.update_settings("panaderia-sol", "test", debounce_seconds=0)
    token = await puente.tenants.issue_bridge_token("panaderia-sol")
    bridge = FakeBridge(f"ws://127.0.0.1:{puente.http.port}/bridge", "panaderia-sol", token, state="connected",
                        phone="56911112222")
    try:
        await bridge.connect()
        for customer in ("56933334444", "56955556666"):
            await bridge.send_message(customer, "hola")
        await bridge.wait_for_sent(count=2, timeout=10)
        conversations = {c.conversation_id for c in await puente.pipeline.chats.idle_conversations("panaderia-sol")}
        assert len(conversations) == 2

        telegram.push_message(ADMIN, "/delete panaderia-sol")
        confirm = await telegram.wait_for_message(ADMIN, lambda m: "✅ Confirmar" in m.button_texts, timeout=10)
        telegram.push_callback(ADMIN, confirm.message_id, confirm.callback_data("✅ Confirmar"))
        await wait_until(lambda: openai.deleted_conversations >= conversations, 10, "the conversations deleted")
        assert await puente.tenants.find("panaderia-sol") is None
    finally:
        await bridge.stop()


async def test_puente_run_plans_the_owners_weekly_summary(world):
    puente, _, _ = world
    # DIGEST_TIME 08:00 in DEFAULT_TIMEZONE (UTC) by default: the job looks at the clock from
    # start-up and sends only on Mondays (tests/pipeline/test_weekly_summary.py).
    weekly = puente.weekly.daily.next_run
    assert weekly is not None and (weekly.hour, weekly.minute) == (8, 0)
    assert puente.weekly in puente._components()


async def test_a_file_added_in_telegram_is_searched_by_the_relay_and_deleted_with_the_tenant(world):
    # One Knowledge service for the admin bot and the relay (puente/app.py): the bot's upload
    # is what the relay's Responses calls search, and deleting the tenant deletes it at OpenAI.
    puente, telegram, openai = world
    await puente.tenants.create(NewTenant(slug="panaderia-sol", name="Sol", openai_key=KEY), "test")
    await puente.tenants.update_settings("panaderia-sol", "test", debounce_seconds=0)
    telegram.push_document(ADMIN, b"Marraqueta: $2.500 el kilo.", "precios.txt", mime_type="text/plain",
                           caption="/kb panaderia-sol")
    await telegram.wait_for_message(ADMIN, lambda m: "precios.txt listo" in m.body, timeout=15)
    store = openai.files.store_named("puente-panaderia-sol")
    assert store is not None and len(store.files) == 1

    token = await puente.tenants.issue_bridge_token("panaderia-sol")
    bridge = FakeBridge(f"ws://127.0.0.1:{puente.http.port}/bridge", "panaderia-sol", token, state="connected",
                        phone="56911112222")
    try:
        await bridge.connect()
        await bridge.send_message("56933334444", "¿cuánto vale la marraqueta?")
        await bridge.wait_for_sent(timeout=10)
        assert {"type": "file_search", "vector_store_ids": [store.id]} in openai.last_request.tools

        telegram.push_message(ADMIN, "/delete panaderia-sol")
        confirm = await telegram.wait_for_message(ADMIN, lambda m: "✅ Confirmar" in m.button_texts, timeout=10)
        telegram.push_callback(ADMIN, confirm.message_id, confirm.callback_data("✅ Confirmar"))
        await wait_until(lambda: store.id in openai.files.deleted_stores, 10, "the tenant's store deleted")
        assert len(openai.files.deleted_files) == 1
    finally:
        await bridge.stop()
