"""Telegram out of reach at start-up does not take Puente down: the landing pages and the
relay serve, the admin bot keeps trying (one log line when Telegram goes, one when it is
back), /readyz says so, and the alerts raised meanwhile arrive once it is back. A token
Telegram refuses is a configuration error: `puente run` exits 2 with one line."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from core.events import Alert, AlertKind
from puente.app import Puente
from tests.fakes import FakeOpenAI, FakeTelegram
from tests.support.faults import ADMIN, PYTHON, ROOT, fault_settings, free_port, subprocess_env, wait_until


async def test_puente_serves_without_telegram_and_the_bot_catches_up(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    telegram_port = free_port()  # nothing listens there yet
    telegram, openai = FakeTelegram(), FakeOpenAI()
    await openai.start()
    settings = fault_settings(tmp_path / "data", telegram=None, openai=openai, telegram_bot_token=telegram.token,
                              telegram_admin_ids=(ADMIN,), telegram_api_url=f"http://127.0.0.1:{telegram_port}")
    puente = Puente(settings)
    try:
        await puente.start()  # does not raise: Telegram is not needed to serve customers
        public = f"http://127.0.0.1:{puente.http.port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{public}/healthz") as health:
                assert health.status == 200
            async with http.get(f"{public}/readyz") as ready:
                assert ready.status == 503
                assert "admin bot: down (Telegram unreachable, retrying)" in await ready.text()
            puente.bus.publish(Alert("tienda-sol", AlertKind.BANNED, {}))
            await asyncio.sleep(0.5)

            await telegram.start(port=telegram_port)
            alert = await telegram.wait_for_message(ADMIN, lambda m: "bloqueó" in (m.body or ""), timeout=15)
            await wait_until(lambda: puente.admin_bot.is_polling, 5, "the bot polling")
            async with http.get(f"{public}/readyz") as ready:
                assert ready.status == 200
    finally:
        await puente.stop()
        await telegram.stop()
        await openai.stop()

    assert "tienda-sol" in alert.body
    messages = [r.getMessage() for r in caplog.records if r.name == "bot"]
    assert len([m for m in messages if m.startswith("Telegram unreachable, retrying")]) == 1
    assert len([m for m in messages if m.startswith("Telegram back")]) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_token_telegram_refuses_stops_puente_run_with_one_line_and_exit_2(tmp_path):
    async with FakeTelegram() as telegram:
        proc = await asyncio.create_subprocess_exec(
            PYTHON, "-m", "puente.cli", "run", cwd=tmp_path, stderr=asyncio.subprocess.PIPE,
            env=subprocess_env({"TELEGRAM_BOT_TOKEN": "123456:not-the-token-telegram-knows",
                                "TELEGRAM_ADMIN_IDS": str(ADMIN), "TELEGRAM_API_URL": telegram.url,
                                "DATA_DIR": str(tmp_path / "data"), "HTTP_HOST": "127.0.0.1",
                                "HTTP_PORT": str(free_port()), "BRIDGE_COMMAND": "", "LOG_LEVEL": "error"}))
        _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    lines = stderr.decode().strip().splitlines()

    assert proc.returncode == 2
    assert lines == ["puente: TELEGRAM_BOT_TOKEN: Telegram refused this token (401 Unauthorized); "
                     "copy it again from @BotFather"], lines
    assert (ROOT / "puente").is_dir()
