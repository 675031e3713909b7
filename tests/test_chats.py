"""The chats repository's contract, run against every store back-end (the `store` fixture):
what the pipeline and the owner's commands rely on behaves the same on each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relay.chats import Chat, PauseKind, open_chats

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
CHAT = "56911110000@s.whatsapp.net"
OTHER = "56922220000@s.whatsapp.net"


@pytest.fixture
async def chats(store):
    repo = open_chats(store.db)
    await repo.ensure_indexes()
    return repo


async def test_a_customer_creates_the_chat_and_is_remembered_with_name_and_phone(chats):
    chat, previous = await chats.touch_customer("t", CHAT, NOW, "Ana", "56911110000")
    assert previous is None
    assert (chat.name, chat.phone, chat.last_customer_at, chat.paused) == ("Ana", "56911110000", NOW, False)
    later = NOW + timedelta(minutes=5)
    chat, previous = await chats.touch_customer("t", CHAT, later, None, None)  # no name this time: kept
    assert previous == NOW and chat.name == "Ana" and chat.last_activity_at == later
    assert await chats.get("t", CHAT) == chat
    assert await chats.get("other-tenant", CHAT) is None


async def test_the_owner_writing_starts_a_handoff_and_an_older_message_never_moves_it_back(chats):
    chat = await chats.touch_owner("t", CHAT, NOW, handoff=True)
    assert (chat.pause_kind, chat.paused_at, chat.last_owner_at) == (PauseKind.HANDOFF, NOW, NOW)
    chat = await chats.touch_owner("t", CHAT, NOW - timedelta(hours=1), handoff=True)  # replayed late
    assert chat.last_owner_at == NOW
    assert (await chats.touch_owner("t", OTHER, NOW, handoff=False)).paused is False


async def test_the_assistant_handing_off_pauses_once_and_counts_the_owners_silence_from_then(chats):
    await chats.touch_owner("t", CHAT, NOW - timedelta(days=2), handoff=False)  # the owner wrote long ago
    assert await chats.start_handoff("t", CHAT, NOW) is True
    chat = await chats.get("t", CHAT)
    assert (chat.pause_kind, chat.paused_at, chat.last_owner_at) == (PauseKind.HANDOFF, NOW, NOW)
    assert not chat.handoff_expired(NOW + timedelta(hours=11), 12)  # not over at once
    assert await chats.start_handoff("t", CHAT, NOW + timedelta(minutes=1)) is False  # already paused
    await chats.pause("t", OTHER, PauseKind.MANUAL, NOW)
    assert await chats.start_handoff("t", OTHER, NOW) is False  # a `pausar` stays what it is
    assert (await chats.get("t", OTHER)).pause_kind is PauseKind.MANUAL
    assert await chats.resume_expired_handoff("t", CHAT, NOW + timedelta(minutes=1)) is True


async def test_one_conversation_per_chat_whoever_stores_first(chats):
    await chats.touch_customer("t", CHAT, NOW, None, None)
    assert await chats.set_conversation("t", CHAT, "conv_a") == "conv_a"
    assert await chats.set_conversation("t", CHAT, "conv_b") == "conv_a"
    await chats.forget_conversation("t", CHAT, "conv_other")  # not the current one: nothing happens
    assert (await chats.get("t", CHAT)).conversation_id == "conv_a"
    await chats.forget_conversation("t", CHAT, "conv_a")
    assert (await chats.get("t", CHAT)).conversation_id is None


async def test_retired_conversations_wait_for_deletion(chats):
    await chats.touch_customer("t", CHAT, NOW, None, None)
    await chats.set_conversation("t", CHAT, "conv_a")
    await chats.retire_conversation("t", CHAT, "conv_a")
    assert (await chats.get("t", CHAT)).conversation_id is None
    assert await chats.retired_conversations("t") == [(CHAT, "conv_a")]
    await chats.drop_retired("t", CHAT, "conv_a")
    assert await chats.retired_conversations("t") == []


async def test_pauses_resumes_and_pause_all_keep_manual_pauses(chats):
    for chat in (CHAT, OTHER):
        await chats.touch_customer("t", chat, NOW, None, None)
    await chats.pause("t", CHAT, PauseKind.MANUAL, NOW)
    assert await chats.count("t", paused=True) == 1
    assert await chats.pause_all("t", NOW) == 1  # the other chat; the manual pause stays manual
    kinds = {c.chat: c.pause_kind for c in await chats.paused("t")}
    assert kinds == {CHAT: PauseKind.MANUAL, OTHER: PauseKind.ALL}
    assert await chats.resume("t", OTHER) is True
    assert await chats.resume("t", OTHER) is False
    assert await chats.resume_all("t") == 1
    assert await chats.count("t") == 2 and await chats.count("t", paused=True) == 0


async def test_an_expired_handoff_is_resumed_only_while_it_is_still_that_handoff(chats):
    await chats.touch_owner("t", CHAT, NOW, handoff=True)
    assert await chats.resume_expired_handoff("t", CHAT, NOW - timedelta(minutes=1)) is False  # owner too recent
    await chats.pause("t", CHAT, PauseKind.MANUAL, NOW)  # `pausar` landed
    assert await chats.resume_expired_handoff("t", CHAT, NOW + timedelta(hours=3)) is False
    await chats.touch_owner("t", OTHER, NOW, handoff=True)
    assert await chats.resume_expired_handoff("t", OTHER, NOW + timedelta(hours=3)) is True
    assert (await chats.get("t", OTHER)).paused is False


async def test_expired_handoffs_are_resumed_in_bulk(chats):
    await chats.touch_owner("t", CHAT, NOW, handoff=True)
    await chats.touch_owner("t", OTHER, NOW + timedelta(hours=2), handoff=True)
    assert await chats.expired_handoffs("t", NOW + timedelta(hours=1)) == 1
    assert [c.chat for c in await chats.paused("t")] == [OTHER]


async def test_idle_conversations_are_those_quiet_since_a_moment(chats):
    await chats.touch_customer("t", CHAT, NOW, None, None)
    await chats.set_conversation("t", CHAT, "conv_a")
    await chats.touch_customer("t", OTHER, NOW + timedelta(hours=2), None, None)
    await chats.set_conversation("t", OTHER, "conv_b")
    assert [c.chat for c in await chats.idle_conversations("t", NOW + timedelta(hours=1))] == [CHAT]
    assert sorted(c.chat for c in await chats.idle_conversations("t")) == sorted([CHAT, OTHER])


async def test_once_per_hour_claims(chats):
    await chats.touch_customer("t", CHAT, NOW, None, None)
    assert await chats.claim_once_per_hour("t", CHAT, "fallback_at", NOW) is True
    assert await chats.claim_once_per_hour("t", CHAT, "fallback_at", NOW + timedelta(minutes=59)) is False
    assert await chats.claim_once_per_hour("t", CHAT, "unsupported_at", NOW) is True  # another claim
    assert await chats.claim_once_per_hour("t", CHAT, "media_lost_at", NOW) is True  # and another
    assert await chats.claim_once_per_hour("t", CHAT, "media_lost_at", NOW + timedelta(minutes=30)) is False
    assert await chats.claim_once_per_hour("t", CHAT, "fallback_at", NOW + timedelta(hours=1)) is True
    with pytest.raises(ValueError):
        await chats.claim_once_per_hour("t", CHAT, "name", NOW)


async def test_a_claim_since_a_moment_is_granted_once_until_a_later_moment(chats):
    await chats.touch_customer("t", CHAT, NOW, None, None)
    closed_at = NOW - timedelta(hours=3)
    assert await chats.claim_since("t", CHAT, "away_at", closed_at, NOW) is True
    assert await chats.claim_since("t", CHAT, "away_at", closed_at, NOW + timedelta(hours=5)) is False
    assert await chats.claim_since("t", OTHER, "away_at", closed_at, NOW) is False  # no such chat
    assert await chats.claim_since("t", CHAT, "away_at", NOW + timedelta(days=1), NOW + timedelta(days=1)) is True
    with pytest.raises(ValueError):
        await chats.claim_since("t", CHAT, "name", NOW, NOW)


async def test_stale_chats_are_forgotten_unless_they_still_hold_something(chats):
    old = NOW - timedelta(days=60)
    for n, state in enumerate(("empty", "conversation", "paused", "retired", "recent")):
        chat = f"5690000000{n}@s.whatsapp.net"
        await chats.touch_customer("t", chat, NOW if state == "recent" else old, None, None)
        if state in ("conversation", "retired"):
            await chats.set_conversation("t", chat, f"conv_{n}")
        if state == "retired":
            await chats.retire_conversation("t", chat, f"conv_{n}")
        if state == "paused":
            await chats.pause("t", chat, PauseKind.MANUAL, old)
    assert await chats.forget_stale(NOW - timedelta(days=30)) == 1
    assert await chats.get("t", "56900000000@s.whatsapp.net") is None
    assert await chats.count("t") == 4


async def test_deleting_a_tenant_deletes_only_its_chats(chats):
    await chats.touch_customer("t", CHAT, NOW, None, None)
    await chats.set_conversation("t", CHAT, "conv_a")
    await chats.retire_conversation("t", CHAT, "conv_a")
    await chats.touch_customer("u", CHAT, NOW, None, None)
    assert await chats.delete_tenant("t") == 1
    assert await chats.retired_conversations("t") == []
    assert isinstance(await chats.get("u", CHAT), Chat)
