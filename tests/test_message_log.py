"""The message log (one document per chat) over the real PyMongo driver: dedupe, pending
turns, daily counts, media, and the conversion of the older one-document-per-message log."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from core.migrations import migrate
from relay.message_log import SEEN_PER_CHAT, MessageLog, MessageStatus, day_of
from relay.message_media import MessageMedia
from relay.outbox import Outbox
from relay.protocol import Media, Message

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
CHAT = "56911110000@s.whatsapp.net"
OTHER = "56922220000@s.whatsapp.net"
PHOTO = base64.b64encode(b"\x89PNG fake photo").decode()


def message(mid: str, chat: str = CHAT, text: str | None = "hola", media: Media | None = None) -> Message:
    return Message(type="message", id=mid, chat=chat, sender=chat, from_me=False, sent_by_bridge=False,
                   timestamp=0, is_group=False, kind="image" if media else "text", text=text, media=media)


async def test_a_repeated_id_is_refused_while_pending_after_its_answer_and_after_a_restart(store):
    log = MessageLog(store.db)
    await log.ensure_indexes()
    assert await log.record("t", message("M1"), customer=True, now=NOW) is True
    assert await log.record("t", message("M1"), customer=True, now=NOW) is False
    assert [p.id for p in await log.pending("t")] == ["M1"]  # one pending entry, not two
    assert await log.count("in", [day_of(NOW)], tenant="t") == 1

    await log.settle("t", CHAT, ["M1"], MessageStatus.ANSWERED, NOW)
    again = MessageLog(store.db)  # a restarted relay
    assert await again.record("t", message("M1"), customer=True, now=NOW) is False
    assert await again.pending("t") == []
    assert await again.count("in", [day_of(NOW)], tenant="t") == 1
    assert await again.record("other-tenant", message("M1"), customer=True, now=NOW) is True


async def test_resends_of_one_id_do_not_push_older_ids_out_of_the_dedupe_window(store):
    log = MessageLog(store.db)
    await log.record("t", message("oldest"), customer=False, now=NOW)
    for n in range(SEEN_PER_CHAT - 2):
        await log.record("t", message(f"M{n}"), customer=False, now=NOW)
    for _ in range(5):  # a bridge resending its newest message again and again
        assert await log.record("t", message(f"M{SEEN_PER_CHAT - 3}"), customer=False, now=NOW) is False
    assert await log.record("t", message("oldest"), customer=False, now=NOW) is False  # still remembered


async def test_the_dedupe_window_is_the_chats_last_messages(store):
    log = MessageLog(store.db)
    for chat, newer in ((CHAT, SEEN_PER_CHAT - 1), (OTHER, SEEN_PER_CHAT)):
        await log.record("t", message("first", chat=chat), customer=False, now=NOW)
        for n in range(newer):
            await log.record("t", message(f"M{n}", chat=chat), customer=False, now=NOW)
    assert await log.record("t", message("first", chat=CHAT), customer=False, now=NOW) is False
    assert await log.record("t", message("first", chat=OTHER), customer=False, now=NOW) is True  # fell out


async def test_settling_counts_answers_once_and_keeps_no_text(store):
    log = MessageLog(store.db)
    for mid in ("A", "B"):
        await log.record("t", message(mid, text="mi rut es 12.345.678-9"), customer=True, now=NOW)
    await log.settle("t", CHAT, ["A", "B"], MessageStatus.ANSWERED, NOW)
    await log.settle("t", CHAT, ["A", "B"], MessageStatus.ANSWERED, NOW)  # a recovery settling again
    assert await log.count("answered", [day_of(NOW)], tenant="t") == 2
    assert await log.count("in", [day_of(NOW)]) == 2
    assert "12.345.678" not in str(await store.db[MessageLog.COLLECTION].find({}).to_list())


async def test_media_waits_with_its_turn_and_goes_with_it(store):
    log = MessageLog(store.db)
    await log.ensure_indexes()
    await log.record("t", message("P1", text="¿tienen este?", media=Media(mime="image/jpeg", data_base64=PHOTO)),
                     customer=True, now=NOW)
    [pending] = await MessageLog(store.db).pending("t")
    assert (pending.text, pending.media_base64, pending.media_mime) == ("¿tienen este?", PHOTO, "image/jpeg")
    await log.settle("t", CHAT, ["P1"], MessageStatus.ANSWERED, NOW)
    assert await store.db[MessageMedia.COLLECTION].count_documents({}) == 0


async def test_failed_turns_are_listed_and_quiet_chats_forgotten_after_a_week(store):
    log = MessageLog(store.db)
    await log.record("t", message("F1"), customer=True, now=NOW)
    await log.settle("t", CHAT, ["F1"], MessageStatus.FAILED, NOW)
    assert await log.failed_ids("t") == {"F1"}
    await log.record("t", message("W1"), customer=True, now=NOW)  # still waiting: kept
    later = NOW + timedelta(days=8)
    await log.record("t", message("N1", chat=OTHER), customer=True, now=later)
    await log.settle("t", OTHER, ["N1"], MessageStatus.ANSWERED, later)
    assert await log.forget_old(later, days=7) == 0  # CHAT has W1 pending, OTHER is recent
    await log.settle("t", CHAT, ["W1"], MessageStatus.ANSWERED, later)
    assert await log.count("in", [day_of(NOW)]) == 0  # counters older than the week are gone
    assert await log.count("in", [day_of(later)]) == 1
    assert await log.forget_old(later + timedelta(days=8), days=7) == 2


async def test_migration_turns_the_per_message_log_into_the_per_chat_log(store):
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

    log = MessageLog(store.db)
    [pending] = await log.pending("t")
    assert (pending.id, pending.text, pending.media_base64, pending.media_mime) == ("C", "¿y este?", PHOTO, "image/png")
    assert [(o.ref, o.chat, o.text) for o in await Outbox(store.db).waiting("t")] == [
        ("r-e-0", CHAT, "De nada"), ("n-1", OTHER, "Aviso")]
    for mid in "ABCDE":
        assert await log.record("t", message(mid), customer=True, now=NOW) is False
    assert await log.count("in", [day_of(NOW)], tenant="t") == 4
    assert await log.count("answered", [day_of(NOW)], tenant="t") == 1
    assert await log.failed_ids("t") == {"B"}
    assert not {"messages", "outbox"} & set(await store.db.list_collection_names())
