"""Passwords inside URLs (MONGODB_URI, OPENAI_BASE_URL, TELEGRAM_API_URL) are never printed:
not in a configuration error, not in `puente check`, not in a log line."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest

from core.logs import register_secret, setup_logging
from core.settings import ConfigError, load_settings
from tests.support.faults import PYTHON, subprocess_env

PASSWORD = "Pw-s3cret-9q7"


async def _puente(command: str, env: dict[str, str], tmp_path) -> str:
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "puente.cli", command, cwd=tmp_path, env=subprocess_env(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return out.decode()


async def test_a_malformed_mongodb_uri_is_named_without_its_password(tmp_path):
    out = await _puente("check", {
        "TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_ADMIN_IDS": "1", "DATA_DIR": str(tmp_path / "data"),
        "MONGODB_URI": f" mongodb://admin:{PASSWORD}@db.example:27017/puente",
    }, tmp_path)

    assert out.startswith("puente: configuration error: MONGODB_URI: must start with mongodb://"), out
    assert "mongodb://***@db.example:27017/puente" in out
    assert PASSWORD not in out


@pytest.mark.parametrize("name", ["OPENAI_BASE_URL", "TELEGRAM_API_URL"])
def test_a_malformed_api_url_is_named_without_its_password(name, monkeypatch):
    monkeypatch.setenv(name, f"ftp://proxy-user:{PASSWORD}@proxy.example:3128")

    with pytest.raises(ConfigError) as refused:
        load_settings(require_telegram=False, _env_file=None)

    assert str(refused.value) == f"{name}: must be an http:// or https:// URL (got 'ftp://***@proxy.example:3128')"


def test_log_lines_mask_the_user_info_of_any_url_and_the_settings_passwords():
    settings = load_settings(require_telegram=False, _env_file=None,
                             mongodb_uri=f"mongodb://admin:{PASSWORD}@db.example/?authSource=admin")
    for secret in settings.secrets:
        register_secret(secret)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        setup_logging("info")
        root.handlers[0].setStream(stream)
        log = logging.getLogger("tests.urls")
        log.info("connecting to %s", settings.mongodb_uri)
        log.warning("server said: authentication failed for admin with password %s", PASSWORD)
        log.info("proxy at https://someone:hunter2@proxy.example/path")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    out = stream.getvalue()

    assert "connecting to mongodb://***@db.example/?authSource=admin" in out
    assert "proxy at https://***@proxy.example/path" in out
    assert PASSWORD not in out and "hunter2" not in out

