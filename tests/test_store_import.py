"""The first start on the SQLite store finds a database written by the former embedded
store (mongoeco, as Puente wrote it until this change) and brings everything over once:
the tenant and its key, a paused chat, an unanswered message, a queued reply, the dedupe
window, the stats. The customers notice nothing."""

from __future__ import annotations

import logging

from core.bus import EventBus
from core.migrations import migrate
from core.store import Store
from relay.chats import PauseKind, open_chats
from relay.message_log import MessageStatus, open_message_log
from relay.outbox import open_outbox
from relay.protocol import Message
from tenants.audit import open_audit_log
from tenants.repository import open_tenants
from tenants.secrets import SecretBox
from tenants.service import NewTenant, TenantService
from tests.support.clock import FakeClock
from tests.support.faults import KEY, SECRET_KEY, FaultWorld

PAUSED = "56911110000@s.whatsapp.net"
WAITING = "56922220000@s.whatsapp.net"
QUEUED = "56933330000@s.whatsapp.net"


def message(mid: str, chat: str, text: str) -> Message:
    return Message(type="message", id=mid, chat=chat, sender=chat, kind="text", text=text, timestamp=0)


async def write_with_the_former_store(data_dir) -> None:
    """What a Puente of before this change left in DATA_DIR/puente.sqlite3."""
    store = Store(None, "puente", data_dir, engine="mongoeco", own_process=False)
    await store.start()
    try:
        db, clock = store.db, FakeClock()
        await migrate(db)
        repo, audit = open_tenants(db), open_audit_log(db, clock)
        for r in (repo, audit):
            await r.ensure_indexes()
        tenants = TenantService(repo, audit, SecretBox(SECRET_KEY), clock, EventBus().publish, "gpt-4.1-mini")
        await tenants.create(NewTenant("tienda", "Tienda", KEY), "test")
        await tenants.update_settings("tienda", "test", debounce_seconds=0)
        chats, log, outbox = open_chats(db), open_message_log(db), open_outbox(db)
        for r in (chats, log):
            await r.ensure_indexes()
        now = clock.now()
        await chats.pause("tienda", PAUSED, PauseKind.MANUAL, now)
        await log.record("tienda", message("OLD1", PAUSED, "hola"), customer=True, now=now)
        await log.settle("tienda", PAUSED, ["OLD1"], MessageStatus.HELD, now)
        await log.record("tienda", message("WAIT1", WAITING, "¿abren mañana?"), customer=True, now=now)
        await log.record("tienda", message("Q1", QUEUED, "precio"), customer=True, now=now)
        reply = outbox.prepare("tienda", QUEUED, [("r-queued-0", "Respuesta guardada")])
        await log.settle("tienda", QUEUED, ["Q1"], MessageStatus.ANSWERED, now,
                         reply=[item.entry(now) for item in reply])
    finally:
        await store.stop()


async def test_the_former_embedded_store_is_imported_once_and_nothing_is_lost(tmp_path, caplog):
    data_dir = tmp_path / "data"
    await write_with_the_former_store(data_dir)
    caplog.set_level(logging.WARNING, logger="puente.store_import")
    async with FaultWorld(tmp_path) as world:
        puente = world.puente
        assert puente.store.kind == "sqlite"
        lines = [r.getMessage() for r in caplog.records if r.name == "puente.store_import"]
        assert len(lines) == 1 and lines[0].startswith("imported ")
        tenant = await puente.tenants.get("tienda")
        assert puente.tenants.openai_key(tenant) == KEY  # the encrypted key reads with the same secret key
        bridge = await world.connect("tienda")
        await bridge.wait_for_sent(count=2)  # the queued reply and the answer to the waiting message
        texts = {s["chat"]: s["text"] for s in bridge.sent}
        assert texts == {QUEUED: "Respuesta guardada", WAITING: "Respuesta a: ¿abren mañana?"}
        await bridge.send_message("56911110000", "¿hola?")  # the paused chat stays paused
        await bridge.send_message("56922220000", "x", id="WAIT1")  # a resend of a recorded id: dropped
        await world.quiet()
        assert len(bridge.sent) == 2
        summary = await puente.stats.tenant_summary("tienda")
        assert summary.paused_chats == 1
    assert not (data_dir / "puente.sqlite3").exists()
    assert (data_dir / "puente.sqlite3.imported").exists()

    caplog.clear()
    async with FaultWorld(tmp_path) as world:  # the next start imports nothing again
        assert [r for r in caplog.records if r.name == "puente.store_import"] == []
        assert len(await world.puente.tenants.all()) == 1


async def test_an_import_interrupted_halfway_leaves_nothing_and_is_done_at_the_next_start(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    await write_with_the_former_store(data_dir)
    from puente import store_import
    from relay.message_log import sqlite as message_log_sqlite

    def broken(conn, docs):
        raise RuntimeError("the machine went down mid-import")

    monkeypatch.setattr(store_import, "COLLECTIONS",
                        [(n, broken if n == "message_log" else f) for n, f in store_import.COLLECTIONS])
    world = FaultWorld(tmp_path)
    try:
        await world.start()
        raise AssertionError("the start should have failed")
    except RuntimeError:
        pass
    finally:
        await world.stop()
    assert (data_dir / "puente.sqlite3").exists()  # not renamed
    monkeypatch.setattr(store_import, "COLLECTIONS",
                        [(n, message_log_sqlite.import_documents if n == "message_log" else f)
                         for n, f in store_import.COLLECTIONS])
    async with FaultWorld(tmp_path) as world:
        assert [t.slug for t in await world.puente.tenants.all()] == ["tienda"]  # once, not twice
        assert await world.puente.pipeline.messages.pending_count("tienda") == 1
    assert (data_dir / "puente.sqlite3.imported").exists()

