"""The hourly cleanup: idle conversations forgotten, handoffs ended, old records pruned."""

from __future__ import annotations

from relay.chats import PauseKind
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT
from tests.support.stores import everything_stored

OTHER = "5491144445555"
OTHER_CHAT = f"{OTHER}@s.whatsapp.net"


async def customer_says(rig, bridge, chat, text):
    mid = await bridge.send_message(chat, text)
    await bridge.wait_for_ack(mid)
    await rig.idle()
    return mid


async def conversation_of(rig, chat, slug="panaderia"):
    found = await rig.pipeline.chats.get(slug, chat)
    return found.conversation_id if found else None


async def test_idle_conversations_are_forgotten_and_the_next_message_starts_a_new_one(rig, clock):
    await rig.add_tenant(memory_hours=24)
    bridge = await rig.connect()
    await customer_says(rig, bridge, CUSTOMER, "hola")
    old = await conversation_of(rig, CUSTOMER_CHAT)
    clock.advance(hours=23)
    counts = await rig.cleanup.run()
    assert counts.conversations_forgotten == 0
    clock.advance(hours=2)
    counts = await rig.cleanup.run()
    assert counts.conversations_forgotten == 1
    assert old in rig.openai.deleted_conversations
    assert await conversation_of(rig, CUSTOMER_CHAT) is None
    await customer_says(rig, bridge, CUSTOMER, "¿me recuerdas?")
    new = await conversation_of(rig, CUSTOMER_CHAT)
    assert new and new != old
    assert rig.openai.last_request.history == []  # a fresh memory


async def test_a_customer_back_after_the_memory_window_starts_afresh_before_any_cleanup(rig, clock):
    await rig.add_tenant(memory_hours=24)
    bridge = await rig.connect()
    await customer_says(rig, bridge, CUSTOMER, "me llamo Ana")
    old = await conversation_of(rig, CUSTOMER_CHAT)
    clock.advance(hours=23)
    await customer_says(rig, bridge, CUSTOMER, "¿sigues ahí?")  # within the window: same memory
    assert await conversation_of(rig, CUSTOMER_CHAT) == old
    assert rig.openai.last_request.conversation == old
    clock.advance(hours=25)  # no cleanup has run
    await customer_says(rig, bridge, CUSTOMER, "¿cómo me llamo?")
    new = await conversation_of(rig, CUSTOMER_CHAT)
    assert new and new != old
    assert rig.openai.last_request.conversation == new and rig.openai.last_request.history == []
    counts = await rig.cleanup.run()  # the retired conversation is deleted at OpenAI
    assert counts.conversations_forgotten == 1 and old in rig.openai.deleted_conversations
    assert (await rig.cleanup.run()).conversations_forgotten == 0


async def test_cleanup_interrupted_half_way_finishes_on_the_next_run(rig, clock):
    await rig.add_tenant()
    bridge = await rig.connect()
    await customer_says(rig, bridge, CUSTOMER, "hola")
    await customer_says(rig, bridge, OTHER, "hola")
    clock.advance(hours=25)
    rig.openai.fail_next("500", 1, endpoint="conversations")
    first = await rig.cleanup.run()
    assert (first.conversations_forgotten, first.failures) == (1, 1)
    left = [c for c in (await conversation_of(rig, CUSTOMER_CHAT), await conversation_of(rig, OTHER_CHAT)) if c]
    assert len(left) == 1
    second = await rig.cleanup.run()
    assert (second.conversations_forgotten, second.failures) == (1, 0)
    assert rig.openai.conversations == {}
    third = await rig.cleanup.run()  # idempotent
    assert third.conversations_forgotten == 0


async def test_conversation_already_gone_at_openai_counts_as_forgotten(rig, clock):
    await rig.add_tenant()
    bridge = await rig.connect()
    await customer_says(rig, bridge, CUSTOMER, "hola")
    rig.openai.conversations.clear()
    clock.advance(hours=25)
    assert (await rig.cleanup.run()).conversations_forgotten == 1
    assert await conversation_of(rig, CUSTOMER_CHAT) is None


async def test_one_tenant_with_a_bad_key_does_not_stop_the_others(rig, clock):
    await rig.add_tenant("aaa-roto")
    await rig.add_tenant("zzz-bien", key="sk-test-zzz-bien-000000001")
    broken = await rig.connect("aaa-roto")
    fine = await rig.connect("zzz-bien")
    await customer_says(rig, broken, CUSTOMER, "hola")
    await customer_says(rig, fine, CUSTOMER, "hola")
    await rig.tenants.set_openai_key("aaa-roto", "sk-fake-revoked-key-000000001", "telegram:1")
    clock.advance(hours=25)
    counts = await rig.cleanup.run()
    assert counts.failed_tenants == ["aaa-roto"]
    assert counts.conversations_forgotten == 1
    assert await conversation_of(rig, CUSTOMER_CHAT, "zzz-bien") is None
    assert await conversation_of(rig, CUSTOMER_CHAT, "aaa-roto") is not None


async def test_expired_handoff_resumes_in_the_cleanup(rig, clock):
    await rig.add_tenant(handoff_hours=12)
    bridge = await rig.connect()
    mid = await bridge.send_message(CUSTOMER, "te atiendo yo", from_me=True)
    await bridge.wait_for_ack(mid)
    await rig.idle()
    clock.advance(hours=11)
    assert (await rig.cleanup.run()).handoffs_ended == 0
    clock.advance(hours=2)
    assert (await rig.cleanup.run()).handoffs_ended == 1
    assert (await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)).pause_kind is None


async def test_old_records_go_and_no_answered_text_is_kept(rig, clock):
    await rig.add_tenant()
    bridge = await rig.connect()
    mid = await customer_says(rig, bridge, CUSTOMER, "mi dirección es Calle Falsa 123")
    stored = await everything_stored(rig.store)
    assert "Calle Falsa" not in stored and "mi dirección" not in stored
    assert await rig.pipeline.messages.recorded("panaderia", [mid]) == {mid}
    summary = await rig.stats.tenant_summary("panaderia")
    assert (summary.chats, summary.messages_today, summary.answered_today) == (1, 1, 1)
    totals = await rig.stats.totals()
    assert (totals.messages_today, totals.messages_7d, totals.openai_errors_7d) == (1, 1, 0)
    clock.advance(days=8)
    counts = await rig.cleanup.run()
    assert counts.records_removed >= 1
    assert await rig.pipeline.messages.recorded("panaderia", [mid]) == set()


async def test_scheduled_cleanup_runs_at_start_up(rig, clock):
    await rig.add_tenant()
    bridge = await rig.connect()
    await customer_says(rig, bridge, CUSTOMER, "hola")
    clock.advance(hours=25)
    await rig.cleanup.start()
    try:
        await rig.wait_for(lambda: rig.openai.conversations_deleted == 1)
    finally:
        await rig.cleanup.stop()


async def test_nothing_grows_without_bound_stale_chats_and_old_audit_entries_go(rig, clock):
    await rig.add_tenant(memory_hours=24)
    bridge = await rig.connect()
    await customer_says(rig, bridge, CUSTOMER, "hola")
    await rig.pipeline.chats.pause("panaderia", OTHER_CHAT, PauseKind.MANUAL,
                                   clock.now())
    clock.advance(days=40)  # the customer's conversation was forgotten long ago; the paused chat stays paused
    await rig.tenants.update_settings("panaderia", "test", debounce_seconds=0)  # a fresh audit entry
    counts = await rig.cleanup.run()
    assert counts.conversations_forgotten == 1  # forgotten at OpenAI first, then the empty chat goes
    assert counts.chats_forgotten == 1
    assert await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT) is None
    assert (await rig.pipeline.chats.get("panaderia", OTHER_CHAT)).paused  # a pause is state: kept
    clock.advance(days=365)
    counts = await rig.cleanup.run()
    assert counts.audit_removed >= 2  # the creation and the settings change, a year on
    await customer_says(rig, bridge, CUSTOMER, "volví")  # a forgotten customer is simply new again
    assert bridge.sent[-1]["text"] == "Respuesta a: volví"
