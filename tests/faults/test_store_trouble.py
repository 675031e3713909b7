"""The disk fills up (or DATA_DIR turns read-only): one clear log line and one alert,
nothing acked that was not recorded, the database intact, and everything resumes by
itself when there is room again."""

from __future__ import annotations

import logging
import subprocess
import textwrap

import pytest

from core.sqlite import DatabaseFull
from tests.support.faults import PYTHON, ROOT
from tests.support.pipeline import CUSTOMER

# A process whose files may not grow past a limit (RLIMIT_FSIZE, SIGXFSZ ignored): SQLite's
# writes then fail as they do on a full disk; raising the limit is "space comes back".
FULL_DISK = textwrap.dedent("""
    import asyncio, resource, signal, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from core.sqlite import Database, DatabaseFull
    from relay.chats import open_chats

    async def main(path):
        db = Database(Path(path))
        await db.start()
        chats = open_chats(db)
        await chats.ensure_indexes()
        now = datetime(2026, 12, 1, tzinfo=UTC)
        for n in range(50):
            await chats.touch_customer("t", f"{n}@s.whatsapp.net", now, "x" * 200, None)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, resource.RLIM_INFINITY))
        written = 50
        try:
            for n in range(50, 100_000):
                await chats.touch_customer("t", f"{n}@s.whatsapp.net", now, "x" * 200, None)
                written += 1
        except DatabaseFull as exc:
            print("full:", exc)
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        await chats.touch_customer("t", "after@s.whatsapp.net", now, None, None)
        print("resumed:", await chats.count("t") == written + 1)
        print("integrity:", await db.read(lambda c: c.execute("PRAGMA integrity_check").fetchone()[0]))
        await db.stop()

    asyncio.run(main(sys.argv[1]))
""")


def test_a_full_disk_fails_writes_cleanly_and_they_resume_when_space_returns(tmp_path):
    done = subprocess.run([PYTHON, "-c", FULL_DISK, str(tmp_path / "puente.db")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert "is full: nothing was written" in lines["full"]
    assert lines["resumed"] == "True"  # every write before the failure kept, the next one in
    assert lines["integrity"] == "ok"


@pytest.fixture
async def bridge(rig):
    await rig.add_tenant()
    return await rig.connect(run_forever=True)


async def test_messages_wait_in_the_bridge_while_the_store_is_full_and_are_answered_after(rig, bridge, monkeypatch,
                                                                                          caplog):
    record = rig.pipeline.messages.record
    full = True

    async def record_on_a_full_disk(*args, **kwargs):
        if full:
            raise DatabaseFull("the disk holding /data is full: nothing was written")
        return await record(*args, **kwargs)

    monkeypatch.setattr(rig.pipeline.messages, "record", record_on_a_full_disk)
    caplog.set_level(logging.WARNING, logger="relay.pipeline")
    mid = await bridge.send_message(CUSTOMER, "¿hay stock?")
    await rig.wait_for(lambda: bridge.connections >= 3)  # refused, resent, refused again...
    assert mid in bridge.unacked and mid not in bridge.acks  # nothing acked that was not recorded
    assert [a.kind.value for a in rig.alerts] == ["store_trouble"]  # one alert, not one per try
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "refuses writes" in errors[0].getMessage() and not errors[0].exc_info
    full = False  # space comes back
    sent = await bridge.wait_for_sent(timeout=10)
    assert [s["text"] for s in sent] == ["Respuesta a: ¿hay stock?"]
    assert any("takes writes again" in r.getMessage() for r in caplog.records)
