"""The message log, its outbox and the pending media: one contract, run against every
store back-end (the `store` fixture): dedupe, pending turns, settling (with the reply
queued in the same write), daily counts, retention, deleting a tenant, and the conversion
of MongoDB's older one-document-per-message log."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from core.migrations import migrate
from relay.message_log import (
    FAILED_PER_CHAT,
    MAX_STORED_MEDIA,
    SEEN_PER_CHAT,
    MessageStatus,
    day_of,
    open_message_log,
)
from relay.message_log.model import STATS_DAYS
from relay.message_media import StoredMedia, open_media
from relay.outbox import OutgoingText, open_outbox, prepare, turn_ref
from relay.protocol import Media, Message
from tests.support.stores import BACKENDS, everything_stored

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
CHAT = "56911110000@s.whatsapp.net"
OTHER = "56922220000@s.whatsapp.net"
OWNER = "56900000000@s.whatsapp.net"
PHOTO = base64.b64encode(b"\x89PNG fake photo").decode()


def message(mid: str, chat: str = CHAT, text: str | None = "hola", media: Media | None = None) -> Message:
    return Message(type="message", id=mid, chat=chat, sender=chat, from_me=False, sent_by_bridge=False,
                   timestamp=0, is_group=False, kind="image" if media else "text", text=text, media=media)


def owner_message(mid: str, text: str, at: datetime, chat: str = CHAT) -> Message:
    return Message(type="message", id=mid, chat=chat, sender=OWNER, from_me=True, sent_by_bridge=False,
                   timestamp=int(at.timestamp()), is_group=False, kind="text", text=text)


def photo(data: str = PHOTO) -> Media:
    return Media(mime="image/jpeg", data_base64=data)


@pytest.fixture
async def log(store):
    log = open_message_log(store.db)
    await log.ensure_indexes()
    return log


@pytest.fixture
async def outbox(store, log):
    outbox = open_outbox(store.db)
    await outbox.ensure_indexes()
    return outbox


@pytest.fixture
async def media(store, log):
    media = open_media(store.db)
    await media.ensure_indexes()
    return media


def reply(tenant: str, ids: list[str], *texts: str, chat: str = CHAT) -> list[OutgoingText]:
    return prepare(tenant, chat, [(turn_ref(tenant, ids, n), t) for n, t in enumerate(texts)])


# --- dedupe -------------------------------------------------------------------------------

async def test_a_repeated_id_is_refused_while_pending_after_its_answer_and_after_a_restart(store, log):
    assert await log.record("t", message("M1"), customer=True, now=NOW) is True
    assert await log.record("t", message("M1"), customer=True, now=NOW) is False
    assert [p.id for p in await log.pending("t")] == ["M1"]  # one pending entry, not two
    assert await log.count("in", [day_of(NOW)], tenant="t") == 1

    await log.settle("t", CHAT, ["M1"], MessageStatus.ANSWERED, NOW)
    again = open_message_log(store.db)  # a restarted relay
    assert await again.record("t", message("M1"), customer=True, now=NOW) is False
    assert await again.pending("t") == []
    assert await again.count("in", [day_of(NOW)], tenant="t") == 1
    assert await again.record("other-tenant", message("M1"), customer=True, now=NOW) is True
    assert await again.record("t", message("M1", chat=OTHER), customer=True, now=NOW) is True  # per chat


async def test_resends_of_one_id_do_not_push_older_ids_out_of_the_dedupe_window(log):
    await log.record("t", message("oldest"), customer=False, now=NOW)
    for n in range(SEEN_PER_CHAT - 2):
        await log.record("t", message(f"M{n}"), customer=False, now=NOW)
    for _ in range(5):  # a bridge resending its newest message again and again
        assert await log.record("t", message(f"M{SEEN_PER_CHAT - 3}"), customer=False, now=NOW) is False
    assert await log.record("t", message("oldest"), customer=False, now=NOW) is False  # still remembered


async def test_the_dedupe_window_is_the_chats_last_messages(log):
    for chat, newer in ((CHAT, SEEN_PER_CHAT - 1), (OTHER, SEEN_PER_CHAT)):
        await log.record("t", message("first", chat=chat), customer=False, now=NOW)
        for n in range(newer):
            await log.record("t", message(f"M{n}", chat=chat), customer=False, now=NOW)
    assert await log.record("t", message("first", chat=CHAT), customer=False, now=NOW) is False
    assert await log.recorded("t", ["first", "M0", "never"]) == {"first", "M0"}
    assert await log.record("t", message("first", chat=OTHER), customer=False, now=NOW) is True  # fell out
    # ... and came back as the newest, pushing M0 out of OTHER's window (CHAT still has it).
    assert await log.record("t", message("M1", chat=OTHER), customer=False, now=NOW) is False
    assert await log.record("t", message("M0", chat=OTHER), customer=False, now=NOW) is True


async def test_recorded_names_the_ids_the_tenant_has_seen_in_any_chat(log):
    await log.record("t", message("A"), customer=True, now=NOW)
    await log.record("t", message("B", chat=OTHER), customer=False, now=NOW)
    await log.record("u", message("C"), customer=True, now=NOW)
    assert await log.recorded("t", ["A", "B", "C", "D"]) == {"A", "B"}
    assert await log.recorded("t", []) == set()


# --- pending turns ------------------------------------------------------------------------

async def test_pending_keeps_customer_and_owner_messages_oldest_first_until_settled(log):
    await log.record("t", message("C1", text="¿abren hoy?"), customer=True, now=NOW)
    written = NOW - timedelta(minutes=1)
    await log.record("t", owner_message("O1", "pausar", written), customer=False, owner=True, now=NOW)
    await log.record("t", message("N1"), customer=False, now=NOW)  # recorded only: not a turn
    await log.record("u", message("U1"), customer=True, now=NOW)

    first, second = await log.pending("t")
    assert (first.id, first.text, first.owner, first.kind) == ("C1", "¿abren hoy?", False, "text")
    assert (second.id, second.owner, second.sender, second.at) == ("O1", True, OWNER, written)
    assert first.order < second.order
    assert second.as_owner_message().text == "pausar" and second.as_owner_message().from_me
    assert await log.pending("t", before_order=second.order) == [first]
    assert await log.pending_count("t") == 2 and await log.pending_count() == 3
    assert await log.count("in", [day_of(NOW)], tenant="t") == 1  # the owner's message is not counted


async def test_stranded_lists_every_tenants_old_pending_messages_and_still_pending_checks_one_chat(log):
    await log.record("t", message("A"), customer=True, now=NOW)
    await log.record("u", message("B", chat=OTHER), customer=True, now=NOW)
    await log.record("t", message("C"), customer=True, now=NOW)
    a, c = await log.pending("t")
    [b] = await log.pending("u")
    assert [(p.tenant, p.id) for p in await log.stranded(c.order)] == [("t", "A"), ("u", "B")]
    assert await log.stranded(a.order) == []
    assert [p.id for p in await log.stranded(c.order + 1)] == ["A", "B", "C"]

    assert await log.still_pending("t", CHAT, ["A", "C", "Z"]) == {"A", "C"}
    assert await log.still_pending("t", OTHER, ["B"]) == set()  # B is another tenant's
    await log.settle("t", CHAT, ["A"], MessageStatus.HELD, NOW)
    assert await log.still_pending("t", CHAT, ["A", "C"]) == {"C"}
    assert [p.id for p in await log.stranded(c.order + 1)] == ["B", "C"]
    assert b.order < c.order


async def test_held_and_ignored_turns_stop_waiting_without_counting_or_failing(log):
    for mid in ("H", "I"):
        await log.record("t", message(mid), customer=True, now=NOW)
    await log.settle("t", CHAT, ["H"], MessageStatus.HELD, NOW)
    await log.settle("t", CHAT, ["I"], MessageStatus.IGNORED, NOW)
    assert await log.pending("t") == []
    assert await log.count("answered", [day_of(NOW)], tenant="t") == 0
    assert await log.failed_ids("t") == set()


async def test_settling_counts_answers_once_and_keeps_no_text(store, log):
    for mid in ("A", "B"):
        await log.record("t", message(mid, text="mi rut es 12.345.678-9"), customer=True, now=NOW)
    await log.settle("t", CHAT, ["A", "B"], MessageStatus.ANSWERED, NOW)
    await log.settle("t", CHAT, ["A", "B"], MessageStatus.ANSWERED, NOW)  # a recovery settling again
    assert await log.count("answered", [day_of(NOW)], tenant="t") == 2
    assert await log.count("in", [day_of(NOW)]) == 2
    assert "12.345.678" not in await everything_stored(store)


# --- settle with a reply: one write -------------------------------------------------------

async def test_settle_with_a_reply_ends_the_turn_and_queues_the_reply_together(log, outbox):
    await log.record("t", message("Q1", text="¿precio?"), customer=True, now=NOW)
    parts = reply("t", ["Q1"], "Cuesta 5.000", "¿Algo más?")
    await log.settle("t", CHAT, ["Q1"], MessageStatus.ANSWERED, NOW, reply=[p.entry(NOW) for p in parts])
    assert await log.still_pending("t", CHAT, ["Q1"]) == set()
    assert await outbox.waiting_in("t", CHAT) == parts
    assert await log.count("answered", [day_of(NOW)], tenant="t") == 1


async def test_a_reply_that_cannot_be_written_leaves_the_turn_pending_and_nothing_queued(store, log, outbox, media):
    await log.record("t", message("Q1", text="¿y este?", media=photo()), customer=True, now=NOW)
    broken = {"ref": "r-x-0", "text": {"not", "storable"}, "order": 1, "created_at": NOW}
    with pytest.raises(Exception):  # noqa: B017 - each back-end refuses the value its own way
        await log.settle("t", CHAT, ["Q1"], MessageStatus.ANSWERED, NOW, reply=[broken])
    [still] = await log.pending("t")
    assert (still.id, still.media_base64) == ("Q1", PHOTO)
    assert await outbox.waiting("t") == []
    assert await log.count("answered", [day_of(NOW)], tenant="t") == 0


async def test_a_reply_to_a_chat_the_log_never_saw_is_queued_and_counts_no_answer(log, outbox):
    parts = reply("t", ["gone"], "Hola de nuevo")
    await log.settle("t", CHAT, ["gone"], MessageStatus.ANSWERED, NOW, reply=[p.entry(NOW) for p in parts])
    assert await outbox.waiting("t") == parts
    assert await log.count("answered", [day_of(NOW)]) == 0
    await log.settle("t", OTHER, ["gone"], MessageStatus.FAILED, NOW)  # no chat, no reply: nothing
    assert await log.failed_ids("t") == set()


# --- failures, media ----------------------------------------------------------------------

async def test_failed_turns_are_listed_per_tenant_the_last_ones_of_each_chat(log):
    for n in range(FAILED_PER_CHAT + 2):
        await log.record("t", message(f"F{n}"), customer=True, now=NOW)
        await log.settle("t", CHAT, [f"F{n}"], MessageStatus.FAILED, NOW)
    await log.record("u", message("G"), customer=True, now=NOW)
    await log.settle("u", CHAT, ["G"], MessageStatus.FAILED, NOW)
    assert await log.failed_ids("t") == {f"F{n}" for n in range(2, FAILED_PER_CHAT + 2)}
    assert await log.failed_ids("u") == {"G"}
    assert await log.pending("t") == []


async def test_media_waits_with_its_turn_and_goes_with_it(store, log, media):
    await log.record("t", message("P1", text="¿tienen este?", media=photo()), customer=True, now=NOW)
    [pending] = await open_message_log(store.db).pending("t")
    assert (pending.text, pending.media_base64, pending.media_mime) == ("¿tienen este?", PHOTO, "image/jpeg")
    await log.settle("t", CHAT, ["P1"], MessageStatus.ANSWERED, NOW)
    assert await media.get("t", "P1") is None
    assert await log.record("t", message("P1", media=photo()), customer=True, now=NOW) is False
    assert await media.get("t", "P1") is None  # a resend of a settled message leaves no copy behind


async def test_media_too_large_to_keep_leaves_the_turn_its_caption(log, media):
    huge = photo("A" * (MAX_STORED_MEDIA + 4))
    await log.record("t", message("BIG", text="mira", media=huge), customer=True, now=NOW)
    [pending] = await log.pending("t")
    assert (pending.text, pending.media_base64, pending.media_mime) == ("mira", None, None)
    assert await media.get("t", "BIG") is None


async def test_media_repository_keeps_the_first_copy_until_deleted(media):
    await media.put("t", "M1", StoredMedia(PHOTO, "image/png"), NOW)
    await media.put("t", "M1", StoredMedia("b3RoZXI=", "image/gif"), NOW)  # a resend
    await media.put("u", "M1", StoredMedia("dQ==", "audio/ogg"), NOW)
    await media.put("t", "M2", StoredMedia("Mg==", "audio/ogg"), NOW + timedelta(days=2))
    assert await media.get("t", "M1") == StoredMedia(PHOTO, "image/png")
    assert await media.get("t", "none") is None
    await media.delete("t", ["M1", "none"])
    await media.delete("t", [])
    assert await media.get("t", "M1") is None and await media.get("u", "M1") is not None
    assert await media.forget_old(NOW + timedelta(days=1)) == 1  # u's M1
    assert await media.get("t", "M2") is not None
    assert await media.delete_tenant("t") == 1
    assert await media.get("t", "M2") is None


# --- counters and retention ---------------------------------------------------------------

async def test_daily_counts_sum_over_days_and_tenants(log):
    tomorrow = NOW + timedelta(days=1)
    await log.record("t", message("A"), customer=True, now=NOW)
    await log.record("t", message("B", chat=OTHER), customer=True, now=tomorrow)
    await log.record("u", message("C"), customer=True, now=tomorrow)
    await log.settle("u", CHAT, ["C"], MessageStatus.ANSWERED, tomorrow)
    days = [day_of(NOW), day_of(tomorrow)]
    assert await log.count("in", days) == 3
    assert await log.count("in", days, tenant="t") == 2
    assert await log.count("in", [day_of(tomorrow)], tenant="t") == 1
    assert await log.count("answered", days) == 1
    assert await log.count("in", []) == 0
    with pytest.raises(ValueError):
        await log.count("secrets", days)


async def test_failed_turns_are_listed_and_quiet_chats_forgotten_after_a_week(log):
    await log.record("t", message("F1"), customer=True, now=NOW)
    await log.settle("t", CHAT, ["F1"], MessageStatus.FAILED, NOW)
    assert await log.failed_ids("t") == {"F1"}
    await log.record("t", message("W1"), customer=True, now=NOW)  # still waiting: kept
    later = NOW + timedelta(days=8)
    await log.record("t", message("N1", chat=OTHER), customer=True, now=later)
    await log.settle("t", OTHER, ["N1"], MessageStatus.ANSWERED, later)
    assert await log.forget_old(later, days=7) == 0  # CHAT has W1 pending, OTHER is recent
    await log.settle("t", CHAT, ["W1"], MessageStatus.ANSWERED, later)
    assert await log.count("in", [day_of(NOW)]) == 2  # the daily counts outlive the week
    assert await log.forget_old(later + timedelta(days=8), days=7) == 2
    assert await log.failed_ids("t") == set()
    assert await log.record("t", message("F1"), customer=False, now=later) is True  # its ids went with it


async def test_a_chat_with_a_queued_reply_is_kept_until_it_is_sent(log, outbox):
    [notice] = outbox.prepare("t", CHAT, [("n-1", "Volvemos el lunes")])
    await outbox.put([notice], NOW)
    assert await log.forget_old(NOW + timedelta(days=30), days=7) == 0
    assert await outbox.waiting("t") == [notice]
    await outbox.done(notice)
    assert await log.forget_old(NOW + timedelta(days=30), days=7) == 1


async def test_daily_counts_outlive_the_chat_logs_and_go_after_stats_days(log):
    await log.record("t", message("A"), customer=True, now=NOW)
    await log.settle("t", CHAT, ["A"], MessageStatus.ANSWERED, NOW)
    assert await log.forget_old(NOW + timedelta(days=8), days=7) == 1  # the chat's log: a week
    assert await log.record("t", message("A"), customer=True, now=NOW + timedelta(days=8)) is True  # forgotten
    year = NOW + timedelta(days=STATS_DAYS - 1)
    await log.forget_old(year, days=7)
    assert (await log.count("in", [day_of(NOW)], tenant="t"), await log.count("answered", [day_of(NOW)])) == (1, 1)
    await log.forget_old(NOW + timedelta(days=STATS_DAYS + 1), days=7)
    assert await log.count("in", [day_of(NOW)], tenant="t") == 0


async def test_forget_old_drops_media_a_crash_left_behind(log, media):
    await media.put("t", "orphan", StoredMedia(PHOTO, "image/png"), NOW)
    await log.forget_old(NOW + timedelta(days=6), days=7)
    assert await media.get("t", "orphan") is not None
    await log.forget_old(NOW + timedelta(days=8), days=7)
    assert await media.get("t", "orphan") is None


async def test_deleting_a_tenant_leaves_nothing_of_it_and_everything_of_the_others(log, outbox, media):
    for tenant in ("t", "u"):
        await log.record(tenant, message("A", media=photo()), customer=True, now=NOW)
        await log.record(tenant, message("B", chat=OTHER), customer=True, now=NOW)
        await log.settle(tenant, OTHER, ["B"], MessageStatus.FAILED, NOW)
        await outbox.put(outbox.prepare(tenant, OTHER, [("n-1", "aviso")]), NOW)
    assert await log.delete_tenant("t") == 2
    assert await log.pending("t") == [] and await outbox.waiting("t") == []
    assert await log.failed_ids("t") == set() and await log.recorded("t", ["A", "B"]) == set()
    assert await log.count("in", [day_of(NOW)], tenant="t") == 0
    assert await media.get("t", "A") is None
    assert [p.id for p in await log.pending("u")] == ["A"] and await media.get("u", "A") is not None
    assert await outbox.tenants() == ["u"]
    assert await log.count("in", [day_of(NOW)]) == 2


# --- the outbox ---------------------------------------------------------------------------

async def test_the_outbox_lists_unconfirmed_texts_in_order_until_each_is_done(outbox):
    first = outbox.prepare("t", CHAT, [("r-1-0", "uno"), ("r-1-1", "dos")])
    other = outbox.prepare("t", OTHER, [("n-2", "tres")])
    elsewhere = outbox.prepare("u", CHAT, [("n-3", "cuatro")])
    assert [(i.ref, i.text) for i in first] == [("r-1-0", "uno"), ("r-1-1", "dos")]
    assert first[0].order < first[1].order < other[0].order
    for items in (other, first, elsewhere):
        await outbox.put(items, NOW)
    await outbox.put(first[:1], NOW)  # queued twice: still listed, and sent, once
    await outbox.put([], NOW)
    assert await outbox.waiting("t") == [*first, *other]
    assert await outbox.waiting_in("t", CHAT) == first
    assert await outbox.tenants() == ["t", "u"]
    await outbox.done(first[0])
    assert await outbox.waiting_in("t", CHAT) == first[1:]
    for item in (first[1], other[0]):
        await outbox.done(item)
    assert await outbox.waiting("t") == []
    assert await outbox.tenants() == ["u"]


# --- MongoDB's older layout ---------------------------------------------------------------

@pytest.mark.parametrize("store", [b for b in BACKENDS if b != "sqlite"], indirect=True)
async def test_migration_turns_the_per_message_log_into_the_per_chat_log(store, log, outbox):
    old = store.db["messages"]
    base = {"tenant": "t", "chat": CHAT, "inbound": True, "received_at": NOW, "day": day_of(NOW)}
    await old.insert_many([
        {**base, "_id": "t|A", "message_id": "A", "kind": "text", "status": "answered", "order": 1,
         "answered_day": day_of(NOW)},
        {**base, "_id": "t|B", "message_id": "B", "kind": "text", "status": "failed", "order": 2},
        {**base, "_id": "t|C", "message_id": "C", "kind": "image", "status": "pending", "order": 3,
         "text": "¿y este?", "media_base64": PHOTO, "media_mime": "image/png"},
        {**base, "_id": "t|D", "message_id": "D", "kind": "text", "status": "ignored", "order": 4, "inbound": False},
        {**base, "_id": "t|E", "message_id": "E", "kind": "text", "status": "pending", "order": 5, "text": "gracias"},
    ])
    # The old outbox: a reply to E written just before the relay stopped, and a notice.
    await store.db["outbox"].insert_many([
        {"_id": "r-e-0", "tenant": "t", "chat": CHAT, "text": "De nada", "order": 6, "answers": ["E"],
         "created_at": NOW},
        {"_id": "n-1", "tenant": "t", "chat": OTHER, "text": "Aviso", "order": 7, "created_at": NOW},
    ])
    await store.db["schema"].update_one({"_id": "schema"}, {"$set": {"version": 3}})
    await migrate(store.db)
    await migrate(store.db)  # harmless again

    [pending] = await log.pending("t")
    assert (pending.id, pending.text, pending.media_base64, pending.media_mime) == ("C", "¿y este?", PHOTO, "image/png")
    assert [(o.ref, o.chat, o.text) for o in await outbox.waiting("t")] == [
        ("r-e-0", CHAT, "De nada"), ("n-1", OTHER, "Aviso")]
    for mid in "ABCDE":
        assert await log.record("t", message(mid), customer=True, now=NOW) is False
    assert await log.count("in", [day_of(NOW)], tenant="t") == 4
    assert await log.count("answered", [day_of(NOW)], tenant="t") == 1
    assert await log.failed_ids("t") == {"B"}
    assert not {"messages", "outbox"} & set(await store.db.list_collection_names())
