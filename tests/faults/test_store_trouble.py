"""The disk fills up (or DATA_DIR turns read-only): one clear log line and one alert,
nothing acked that was not recorded, the database intact, and everything resumes by
itself when there is room again."""

from __future__ import annotations

import subprocess
import textwrap

from tests.support.faults import PYTHON, ROOT

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
