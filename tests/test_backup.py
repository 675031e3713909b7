"""`puente backup` while Puente runs and `puente restore` into a stopped one: after a
restore the customers are answered and the owner's pauses still hold. And what the
embedded store does with a file that is not its database."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

from tests.support.faults import PYTHON, FaultWorld, free_port, subprocess_env
from tests.support.pipeline import OWNER_PHONE

PAUSED = "56911110000"
OTHER = "56922220000"


def puente(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The `puente` command on the world's DATA_DIR, as an operator would run it."""
    env = subprocess_env({"DATA_DIR": str(tmp_path / "data"), "TELEGRAM_BOT_TOKEN": "", "LOG_LEVEL": "warning"})
    return subprocess.run([PYTHON, "-m", "puente.cli", *args], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)


async def test_backup_while_running_then_restore_keeps_pauses_and_answers_customers(tmp_path):
    backup_file = tmp_path / "puente-backup.db"
    async with FaultWorld(tmp_path) as world:
        await world.add_tenant("tienda")
        bridge = await world.connect("tienda", phone=OWNER_PHONE)
        await bridge.wait_for_ack(await bridge.send_message(PAUSED, "pausar", from_me=True))
        await bridge.wait_for_sent(lambda s: s["chat"] == f"{OWNER_PHONE}@s.whatsapp.net")
        done = await asyncio.to_thread(puente, tmp_path, "backup", str(backup_file))  # Puente keeps running
        assert done.returncode == 0, done.stderr
        assert "written to" in done.stdout
        assert backup_file.stat().st_mode & 0o777 == 0o600  # it holds every tenant's data
        refused = await asyncio.to_thread(puente, tmp_path, "restore", str(backup_file))
        assert refused.returncode == 2 and "another Puente is running" in refused.stderr

    for leftover in (tmp_path / "data").glob("puente.db*"):  # the disk is lost; the secret key is kept
        leftover.unlink()
    done = await asyncio.to_thread(puente, tmp_path, "restore", str(backup_file))
    assert done.returncode == 0, done.stderr

    async with FaultWorld(tmp_path) as world:
        bridge = await world.connect("tienda", phone=OWNER_PHONE)
        await bridge.wait_for_ack(await bridge.send_message(PAUSED, "¿hola?"))
        await bridge.send_message(OTHER, "¿abren hoy?")
        sent = await bridge.wait_for_sent(lambda s: s["chat"].startswith(OTHER))
        await world.quiet()
        assert [s["text"] for s in sent] == ["Respuesta a: ¿abren hoy?"]
        assert not [s for s in bridge.sent if s["chat"].startswith(PAUSED)]  # the pause came back with it


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    done = puente(tmp_path, "restore", str(junk))
    assert done.returncode == 2
    assert "neither a Puente database backup nor a Puente archive" in done.stderr
    assert not (tmp_path / "data" / "puente.db").exists()


def test_backup_refuses_to_overwrite_a_file(tmp_path):
    existing = tmp_path / "already.db"
    existing.write_text("keep me")
    done = puente(tmp_path, "backup", str(existing))
    assert done.returncode == 2 and "exists already" in done.stderr
    assert existing.read_text() == "keep me"


def run_puente(tmp_path: Path) -> subprocess.CompletedProcess:
    """`puente run` with complete settings (Telegram at a closed port: it is not reached first)."""
    env = subprocess_env({"DATA_DIR": str(tmp_path / "data"), "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35,
                          "TELEGRAM_ADMIN_IDS": "1", "TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}",
                          "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(free_port()), "BRIDGE_COMMAND": "",
                          "LOG_LEVEL": "warning"})
    return subprocess.run([PYTHON, "-m", "puente.cli", "run"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)


def test_a_foreign_file_in_place_of_the_database_stops_start_up_with_one_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "puente.db").write_bytes(b"PK\x03\x04 this is a zip file, not a database" * 100)
    done = run_puente(tmp_path)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "puente restore" in lines[0], done.stderr
    assert (data / "puente.db").read_bytes().startswith(b"PK")  # left as it was


def test_a_second_puente_on_the_same_data_dir_is_refused(tmp_path):
    from core.instance_lock import InstanceLock

    (tmp_path / "data").mkdir()
    held = InstanceLock(tmp_path / "data")
    held.acquire()
    try:
        done = run_puente(tmp_path)
    finally:
        held.release()
    assert done.returncode == 2 and "another Puente is running" in done.stderr


def test_backup_with_no_database_yet_says_so(tmp_path):
    shutil.rmtree(tmp_path / "data", ignore_errors=True)
    done = puente(tmp_path, "backup", str(tmp_path / "b.db"))
    assert done.returncode == 2 and "nothing to back up" in done.stderr
