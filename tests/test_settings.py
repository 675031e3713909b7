"""Configuration errors stop start-up with one line naming the variable (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from core.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"TELEGRAM_BOT_TOKEN": "123456:test-token", "TELEGRAM_ADMIN_IDS": "111,222"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "MONGODB_", "SMTP_", "HTTP_", "LOG_", "OPENAI_", "PUBLIC_", "SECRET_", "DATA_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def _error(monkeypatch, **env: str) -> str:
    for name, value in {**GOOD, **env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return str(caught.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TELEGRAM_BOT_TOKEN": None}, "TELEGRAM_BOT_TOKEN: is required"),
        ({"TELEGRAM_ADMIN_IDS": "12,abc"}, "TELEGRAM_ADMIN_IDS: must be comma-separated numeric"),
        ({"HTTP_PORT": "eighty"}, "HTTP_PORT: Input should be a valid integer"),
        ({"HTTP_PORT": "70000"}, "HTTP_PORT: Input should be less than or equal to 65535"),
        ({"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY: Input should be 'starttls', 'tls' or 'none'"),
        ({"MONGODB_URI": "postgres://x"}, "MONGODB_URI: must start with mongodb://"),
        ({"PUBLIC_URL": "example.com"}, "PUBLIC_URL: must be an http:// or https:// URL"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT: Input should be 'text' or 'json'"),
        ({"SMTP_HOST": "mail.example.com"}, "SMTP_FROM: is required when SMTP_HOST is set"),
        ({"TRUSTED_PROXIES": "10.0.0.1,proxy.local"}, "TRUSTED_PROXIES: must be comma-separated IP addresses"),
        ({"DEFAULT_TIMEZONE": "America/Santago"}, "DEFAULT_TIMEZONE: must be an IANA time zone name"),
        ({"DIGEST_TIME": "8am"}, "DIGEST_TIME: must be a time of day as HH:MM, e.g. 08:00, or empty"),
        ({"DIGEST_TIME": "24:00"}, "DIGEST_TIME: must be a time of day as HH:MM"),
    ],
)
def test_bad_value_names_the_variable(monkeypatch, env, expected):
    assert _error(monkeypatch, **env).startswith(expected)


def test_secret_values_are_not_echoed_in_errors(monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2-very-secret")
    message = _error(monkeypatch, SMTP_PORT="notaport")
    assert "SMTP_PORT" in message and "hunter2" not in message


def test_defaults_and_env_file(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=9:abc\nTELEGRAM_ADMIN_IDS=5\nLOG_LEVEL=DEBUG\n")
    settings = load_settings()
    assert settings.telegram_admin_ids == (5,)
    assert settings.log_level == "debug"
    assert settings.mongodb_uri is None and settings.http_port == 8080
    assert settings.public_url == "http://localhost:8080"
    assert settings.email_enabled is False


def test_digest_time_defaults_to_eight_and_empty_turns_it_off(monkeypatch):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DIGEST_TIME", raising=False)
    assert load_settings().digest_at == time(8, 0)
    monkeypatch.setenv("DIGEST_TIME", " ")
    assert load_settings().digest_at is None


def test_puente_run_with_bad_config_prints_one_line_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HTTP_"))}
    env.update(TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_ADMIN_IDS="1", HTTP_PORT="nope")
    done = subprocess.run(
        [sys.executable, "-m", "puente.cli", "run"], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["puente: configuration error: HTTP_PORT: Input should be a valid integer, unable to parse string as an integer (got 'nope')"]
