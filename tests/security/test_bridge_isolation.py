"""A bridge started by the supervisor sees only an allowlisted environment (none of the
relay's secrets), and the WhatsApp session files it writes are its owner's alone."""

from __future__ import annotations

import asyncio
import stat

import pytest

from tests.support.bridges import PROCESS_BRIDGE, REPO_ROOT, RelaySide, records

RELAY_SECRETS = {
    "TELEGRAM_BOT_TOKEN": "424242:AAH-relay-only-telegram-token-000000000",
    "SMTP_PASSWORD": "smtp-relay-only-password",
    "SECRET_KEY": "x9YbqKkD5mJ8tWq2V3c7N1pL6rT0sA4eF8gH2jK5mN0=",
    "MONGODB_URI": "mongodb://admin:db-relay-only@db.example/",
    "OPENAI_API_KEY": "sk-relay-only-" + "o" * 24,
    "AWS_SECRET_ACCESS_KEY": "aws-relay-only-secret",
}
LET_THROUGH = {"TZ": "America/Santiago", "LC_ALL": "C.UTF-8", "LANG": "es_CL.UTF-8",
               "NODE_OPTIONS": "--max-old-space-size=256", "PUENTE_SEND_GAP_MS": "0-0"}


@pytest.fixture
async def bridge_record(store, clock, tmp_path, monkeypatch):
    """The `started` record of one bridge the supervisor ran with the secrets around."""
    record_dir = tmp_path / "records"
    record_dir.mkdir()
    monkeypatch.chdir(REPO_ROOT)
    for name, value in {**RELAY_SECRETS, **LET_THROUGH, "FAKE_BRIDGE_RECORD_DIR": str(record_dir)}.items():
        monkeypatch.setenv(name, value)
    side = RelaySide(store, clock, tmp_path / "data", bridge_command=PROCESS_BRIDGE)
    await side.start(supervise=True)
    try:
        await side.add_tenant("tienda")
        async with asyncio.timeout(15):
            while not [r for r in records(record_dir, "tienda") if r["event"] == "connected"]:
                await asyncio.sleep(0.05)
        yield next(r for r in records(record_dir, "tienda") if r["event"] == "started"), side
    finally:
        await side.stop()


async def test_a_bridge_sees_none_of_the_relays_secrets(bridge_record):
    record, _ = bridge_record
    environ = record["environ"]

    assert not set(RELAY_SECRETS) & set(environ)
    leaked = [name for name, value in environ.items() if any(s in value for s in RELAY_SECRETS.values())]
    assert leaked == []
    for name, value in LET_THROUGH.items():
        assert environ[name] == value
    assert environ["PATH"] and environ["HOME"]
    assert environ["PUENTE_TENANT"] == "tienda" and environ["PUENTE_BRIDGE_TOKEN"] == record["token"]
    assert environ["FAKE_BRIDGE_RECORD_DIR"]  # let through by BRIDGE_ENV_ALLOW
    allowed = {"PATH", "HOME", "LANG", "TZ", "FAKE_BRIDGE_RECORD_DIR"}
    assert [n for n in environ if n not in allowed and not n.startswith(("PUENTE_", "LC_", "NODE_"))] == []


async def test_a_bridges_session_files_are_its_owners_alone(bridge_record):
    record, side = bridge_record
    session = side.settings.sessions_dir / "tienda"

    assert record["umask"] == 0o077
    for directory in (side.settings.data_dir, side.settings.sessions_dir, session):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE((session / "creds.json").stat().st_mode) == 0o600
