"""Contracts of the repositories without a test module of their own (tenants, audit log,
OpenAI error counts, QR watchers), run against every store back-end by the `store`
fixture: each behaves the same on each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.qr_watchers import Watcher, open_qr_watchers
from core.events import WhatsAppState
from relay.handoffs import HandoffBy, open_handoffs
from relay.message_log import day_of
from relay.openai_errors import open_openai_errors
from relay.usage import TokenUsage, UsageDay, open_usage
from tenants.audit import AuditEntry, open_audit_log
from tenants.budget import Budget, BudgetNotices
from tenants.errors import SlugTaken
from tenants.hours import OpeningHours, Override, parse_week
from tenants.model import Tenant, TenantSettings, whatsapp_doc
from tenants.repository import open_tenants
from tests.support.clock import FakeClock

NOW = datetime(2026, 11, 26, 15, 0, 0, 123_456, tzinfo=UTC)  # sub-millisecond: both keep whole ms



# --- tenants -------------------------------------------------------------------------


@pytest.fixture
async def repo(store):
    tenants = open_tenants(store.db)
    await tenants.ensure_indexes()
    return tenants


def tenant(slug: str = "sol", **changes) -> Tenant:
    """A tenant with every field set away from its default."""
    return Tenant(
        slug=slug, name="Tienda Sol", email="dueno@sol.cl", openai_key_encrypted="gAAAA-encrypted",
        openai_key_hint="sk-…1234", model="gpt-4.1", instructions="Responde breve.",
        landing_token_hash=f"hash-{slug}", created_at=NOW, updated_at=NOW + timedelta(hours=1),
        description="Pan y café", enabled=False, suspended=True, attention="key_invalid", last_error="401",
        bridge_token_hash="bridge-hash",
        settings=TenantSettings(groups_enabled=True, debounce_seconds=0.5, handoff_hours=6,
                                fallback_text="Ya volvemos", reject_calls=True, call_message="Escríbeme, gracias"),
        whatsapp=WhatsAppState(state="connected", phone="56911110000", name="Sol", reason=None,
                               updated_at=NOW + timedelta(minutes=3)),
        hours=OpeningHours("America/Santiago", parse_week("lu-vi 09:00-18:00, vi 20:00-02:00"),
                           (date(2026, 12, 24),), "away"),
        hours_override=Override(True, datetime(2026, 11, 26, 16, tzinfo=UTC), datetime(2026, 11, 27, 12, tzinfo=UTC)),
        budget=Budget(25.5, "fallback", "gpt-4.1-nano"),
        budget_notices=BudgetNotices("2026-11", True, datetime(2026, 11, 26, 14, tzinfo=UTC)),
    ).with_changes(**changes)


def stored(t: Tenant) -> Tenant:
    """The tenant as both back-ends keep it: moments in whole milliseconds."""
    def ms(moment):
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    whatsapp = WhatsAppState(**{**whatsapp_doc(t.whatsapp), "updated_at": ms(t.whatsapp.updated_at)})
    return t.with_changes(created_at=ms(t.created_at), updated_at=ms(t.updated_at), whatsapp=whatsapp)


async def test_a_tenant_reads_back_field_for_field_by_slug_and_by_landing_hash(repo):
    sol = tenant()
    await repo.insert(sol)
    assert await repo.get("sol") == stored(sol)
    assert (await repo.get("sol")).created_at == NOW.replace(microsecond=123_000)
    assert await repo.by_landing_token_hash("hash-sol") == stored(sol)
    assert await repo.get("luna") is None
    assert await repo.by_landing_token_hash("hash-luna") is None


async def test_a_tenant_stored_before_a_setting_existed_reads_back_with_its_default(repo):
    await repo.insert(tenant())
    before_calls = {k: v for k, v in tenant().settings.to_doc().items() if k not in ("reject_calls", "call_message")}
    await repo.update("sol", {"settings": before_calls})
    settings = (await repo.get("sol")).settings
    assert (settings.reject_calls, settings.call_message) == (False, "No puedo atender llamadas, escríbeme por aquí")
    assert (settings.groups_enabled, settings.fallback_text) == (True, "Ya volvemos")  # the rest as stored


async def test_a_tenant_stored_before_budgets_existed_has_none(repo):
    doc = tenant().to_doc()
    del doc["budget"], doc["budget_notices"]
    await repo.insert(Tenant.from_doc(doc))
    await repo.update("sol", {"model": "gpt-4.1"})  # a document written without the budget keys
    assert ((await repo.get("sol")).budget, (await repo.get("sol")).budget_notices) == (None, None)


async def test_a_taken_slug_is_refused_and_the_first_tenant_kept(repo):
    await repo.insert(tenant())
    with pytest.raises(SlugTaken):
        await repo.insert(tenant(name="Otra", landing_token_hash="hash-otra"))
    assert (await repo.get("sol")).name == "Tienda Sol"
    assert await repo.count() == 1


async def test_an_update_sets_fields_and_dotted_paths_and_returns_the_tenant_as_stored(repo):
    await repo.insert(tenant())
    later = NOW + timedelta(days=1)
    updated = await repo.update("sol", {
        "model": "gpt-4.1-mini", "enabled": True, "attention": None, "updated_at": later,
        "settings": TenantSettings(handoff_hours=2).to_doc(), "whatsapp.state": "stopped",
        "landing_token_hash": "hash-new",
    })
    assert updated == await repo.get("sol")
    assert (updated.model, updated.enabled, updated.attention, updated.updated_at) == (
        "gpt-4.1-mini", True, None, later.replace(microsecond=123_000))
    assert updated.settings == TenantSettings(handoff_hours=2)
    assert (updated.whatsapp.state, updated.whatsapp.phone) == ("stopped", "56911110000")  # the rest kept
    assert await repo.by_landing_token_hash("hash-sol") is None
    assert (await repo.by_landing_token_hash("hash-new")).slug == "sol"
    assert [t.slug for t in await repo.all(enabled_only=True)] == ["sol"]  # the lookup column follows
    assert await repo.update("luna", {"model": "x"}) is None
    assert await repo.get("luna") is None  # an update never creates a tenant


async def test_tenants_list_in_slug_order_by_page_or_enabled_only_and_delete_once(repo):
    for slug, enabled in (("delta", True), ("alfa", False), ("eco", True), ("charlie", True), ("bravo", False)):
        await repo.insert(tenant(slug, enabled=enabled))
    assert await repo.count() == 5
    assert [t.slug for t in await repo.page(0, 2)] == ["alfa", "bravo"]
    assert [t.slug for t in await repo.page(2, 2)] == ["charlie", "delta"]
    assert [t.slug for t in await repo.page(4, 2)] == ["eco"]
    assert [t.slug for t in await repo.all()] == ["alfa", "bravo", "charlie", "delta", "eco"]
    assert [t.slug for t in await repo.all(enabled_only=True)] == ["charlie", "delta", "eco"]
    assert await repo.delete("charlie") is True
    assert await repo.delete("charlie") is False
    assert await repo.get("charlie") is None and await repo.count() == 4


# --- audit log ------------------------------------------------------------------------


@pytest.fixture
async def audit(store, clock):
    log = open_audit_log(store.db, clock)
    await log.ensure_indexes()
    return log


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def test_audit_entries_read_back_newest_first_with_their_detail(audit, clock):
    await audit.record("admin:1", "create", "sol", name="Tienda Sol", model="gpt-4.1-mini")
    clock.advance(minutes=1)
    await audit.record("admin:2", "settings", "sol", handoff_hours=6, replies={"voice": True, "ratio": 0.5},
                       note=None, tags=["a", "b"])
    await audit.record("admin:2", "delete", "luna")
    entries = await audit.for_tenant("sol")
    later = datetime(2026, 11, 26, 15, 1, 0, 123_000, tzinfo=UTC)
    assert entries == [
        AuditEntry("admin:2", "settings", "sol", later,
                   {"handoff_hours": 6, "replies": {"voice": True, "ratio": 0.5}, "note": None, "tags": ["a", "b"]}),
        AuditEntry("admin:1", "create", "sol", later - timedelta(minutes=1),
                   {"name": "Tienda Sol", "model": "gpt-4.1-mini"}),
    ]
    assert [e.action for e in await audit.for_tenant("luna")] == ["delete"]
    assert await audit.for_tenant("nobody") == []


async def test_audit_entries_of_one_moment_read_last_recorded_first_and_limit_keeps_the_newest(audit):
    for action in ("create", "key", "email", "model"):  # the fake clock does not move
        await audit.record("admin:1", action, "sol")
    assert [e.action for e in await audit.for_tenant("sol")] == ["model", "email", "key", "create"]
    assert [e.action for e in await audit.for_tenant("sol", limit=2)] == ["model", "email"]


async def test_audit_retention_forgets_only_entries_older_than_the_cut_of_every_tenant(audit, clock):
    await audit.record("admin:1", "create", "sol")
    await audit.record("admin:1", "create", "luna")
    clock.advance(days=200)
    cut = clock.now()
    await audit.record("admin:1", "model", "sol")  # exactly at the cut: kept
    clock.advance(days=200)
    await audit.record("admin:1", "email", "sol")
    assert await audit.forget_older_than(cut) == 2
    assert [e.action for e in await audit.for_tenant("sol")] == ["email", "model"]
    assert await audit.for_tenant("luna") == []
    assert await audit.forget_older_than(cut) == 0


# --- OpenAI error counts -------------------------------------------------------------


@pytest.fixture
async def errors(store):
    log = open_openai_errors(store.db)
    await log.ensure_indexes()
    return log


async def test_openai_errors_are_counted_per_utc_day_over_every_tenant(errors):
    midnight = datetime(2026, 11, 27, tzinfo=UTC)
    await errors.record("sol", "auth", midnight - timedelta(seconds=1))
    await errors.record("sol", "rate_limit", midnight - timedelta(hours=3))
    await errors.record("luna", "auth", midnight - timedelta(hours=1))
    await errors.record("sol", "auth", midnight)  # the next UTC day
    assert await errors.count(["2026-11-26"]) == 3
    assert await errors.count(["2026-11-27"]) == 1
    assert await errors.count(["2026-11-26", "2026-11-27", "2026-11-28"]) == 4
    assert await errors.count(["2026-11-25"]) == 0
    assert await errors.count([]) == 0


async def test_openai_errors_are_counted_for_one_tenant_too(errors):
    day = datetime(2026, 11, 26, 10, tzinfo=UTC)
    await errors.record("sol", "auth", day)
    await errors.record("sol", "rate_limit", day)
    await errors.record("luna", "auth", day)
    assert await errors.count(["2026-11-26"], tenant="sol") == 2
    assert await errors.count(["2026-11-26"], tenant="luna") == 1
    assert await errors.count(["2026-11-26"], tenant="mar") == 0
    assert await errors.count([], tenant="sol") == 0


async def test_openai_error_retention_forgets_tenant_days_before_the_window_only(errors):
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    old, edge = now - timedelta(days=31), now - timedelta(days=30)
    await errors.record("sol", "auth", old)
    await errors.record("sol", "quota", old)  # two kinds, one tenant-day
    await errors.record("luna", "auth", old)
    await errors.record("sol", "auth", edge)  # the window's first day: kept
    await errors.record("sol", "auth", now)
    assert await errors.forget_old(now, days=30) == 2
    assert await errors.count([day_of(old)]) == 0
    assert await errors.count([day_of(edge), day_of(now)]) == 2
    await errors.record("sol", "auth", old)  # a forgotten day counts afresh
    assert await errors.count([day_of(old)]) == 1
    assert await errors.forget_old(now) == 1  # 30 days by default


# --- QR watchers ---------------------------------------------------------------------


@pytest.fixture
async def watchers(store):
    saved = open_qr_watchers(store.db)
    await saved.ensure_indexes()
    return saved


async def test_qr_watchers_come_back_as_saved_and_a_save_replaces_the_chats_watcher(watchers):
    assert await watchers.all() == {}
    await watchers.save("sol", Watcher(111, "es"))
    await watchers.save("sol", Watcher(222, "en", 5001))
    await watchers.save("luna", Watcher(111, "es", 7001))
    await watchers.save("sol", Watcher(111, "en", 5002))  # the photo was sent: same chat, now with its message
    assert await watchers.all() == {
        "sol": {111: Watcher(111, "en", 5002), 222: Watcher(222, "en", 5001)},
        "luna": {111: Watcher(111, "es", 7001)},
    }
    await watchers.save("sol", Watcher(111, "es", None))  # back to no photo
    assert (await watchers.all())["sol"][111] == Watcher(111, "es", None)


async def test_dropping_qr_watchers_forgets_one_chat_or_the_whole_tenant_and_nothing_else(watchers):
    for tenant, chat in (("sol", 111), ("sol", 222), ("luna", 111)):
        await watchers.save(tenant, Watcher(chat, "es", chat * 10))
    await watchers.drop("sol", 222)
    await watchers.drop("sol", 999)  # not watching: nothing happens
    assert await watchers.all() == {"sol": {111: Watcher(111, "es", 1110)}, "luna": {111: Watcher(111, "es", 1110)}}
    await watchers.drop("sol")
    assert await watchers.all() == {"luna": {111: Watcher(111, "es", 1110)}}


# --- handoff counts ------------------------------------------------------------------


@pytest.fixture
async def handoffs(store):
    log = open_handoffs(store.db)
    await log.ensure_indexes()
    return log


async def test_handoffs_are_counted_per_tenant_utc_day_and_starter(handoffs):
    midnight = datetime(2026, 11, 27, tzinfo=UTC)
    await handoffs.record("sol", HandoffBy.ASSISTANT, midnight - timedelta(seconds=1))
    await handoffs.record("sol", HandoffBy.ASSISTANT, midnight - timedelta(hours=2))
    await handoffs.record("sol", HandoffBy.OWNER, midnight - timedelta(hours=3))
    await handoffs.record("luna", HandoffBy.ASSISTANT, midnight)  # the next UTC day
    day, next_day = "2026-11-26", "2026-11-27"
    assert await handoffs.count(HandoffBy.ASSISTANT, [day]) == 2
    assert await handoffs.count(HandoffBy.OWNER, [day, next_day]) == 1
    assert await handoffs.count(HandoffBy.ASSISTANT, [day, next_day]) == 3
    assert await handoffs.count(HandoffBy.ASSISTANT, [day, next_day], tenant="luna") == 1
    assert await handoffs.count(HandoffBy.ASSISTANT, []) == 0
    assert await handoffs.forget_old(midnight + timedelta(days=30)) == 1  # sol's day went, luna's stays
    assert await handoffs.count(HandoffBy.ASSISTANT, [day, next_day]) == 1
    assert await handoffs.delete_tenant("luna") == 1


async def test_new_customers_are_counted_per_tenant_and_utc_day_beside_the_handoffs(handoffs):
    midnight = datetime(2026, 11, 27, tzinfo=UTC)
    await handoffs.record_new_customer("sol", midnight - timedelta(seconds=1))
    await handoffs.record_new_customer("sol", midnight - timedelta(hours=5))
    await handoffs.record("sol", HandoffBy.OWNER, midnight - timedelta(hours=1))
    await handoffs.record_new_customer("luna", midnight)  # the next UTC day
    day, next_day = "2026-11-26", "2026-11-27"
    assert await handoffs.new_customers([day], tenant="sol") == 2
    assert await handoffs.new_customers([day, next_day]) == 3
    assert await handoffs.new_customers([next_day], tenant="sol") == 0
    assert await handoffs.new_customers([]) == 0
    assert await handoffs.count(HandoffBy.OWNER, [day]) == 1  # the handoffs' own counts are untouched
    assert await handoffs.count(HandoffBy.ASSISTANT, [day]) == 0


# --- usage counts --------------------------------------------------------------------


@pytest.fixture
async def usage(store):
    log = open_usage(store.db)
    await log.ensure_indexes()
    return log


async def test_usage_is_summed_per_tenant_utc_day_and_model(usage):
    midnight = datetime(2026, 12, 1, tzinfo=UTC)
    await usage.add_response("sol", "gpt-4.1-mini", TokenUsage(1000, 400, 200), midnight - timedelta(seconds=1))
    await usage.add_response("sol", "gpt-4.1-mini", TokenUsage(500, 0, 100), midnight - timedelta(hours=5))
    await usage.add_voice_note("sol", "whisper-1", 12.5, midnight - timedelta(hours=1))
    await usage.add_voice_note("sol", "whisper-1", 0, midnight - timedelta(hours=2))
    await usage.add_response("sol", "gpt-4.1-mini", TokenUsage(7, 0, 3), midnight)  # the next UTC day (and month)
    await usage.add_response("luna", "gpt-4o", TokenUsage(1, 1, 1), midnight - timedelta(days=2))

    assert await usage.days("2026-11-01", "2026-11-31", "sol") == [
        UsageDay("sol", "2026-11-30", "gpt-4.1-mini", responses=2, input_tokens=1500, cached_tokens=400,
                 output_tokens=300),
        UsageDay("sol", "2026-11-30", "whisper-1", voice_notes=2, voice_seconds=12.5),
    ]
    assert [(r.tenant, r.day, r.model) for r in await usage.days("2026-11-29", "2026-12-31")] == [
        ("luna", "2026-11-29", "gpt-4o"), ("sol", "2026-11-30", "gpt-4.1-mini"), ("sol", "2026-11-30", "whisper-1"),
        ("sol", "2026-12-01", "gpt-4.1-mini")]


async def test_usage_is_kept_400_days_and_goes_with_its_tenant(usage):
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    await usage.add_response("sol", "gpt-4.1", TokenUsage(1, 0, 1), now - timedelta(days=401))
    await usage.add_response("sol", "gpt-4.1", TokenUsage(1, 0, 1), now - timedelta(days=399))
    await usage.add_voice_note("luna", "whisper-1", 3, now)
    assert await usage.forget_old(now) == 1
    assert [r.day for r in await usage.days("2000-01-01", "2099-12-31", "sol")] == [day_of(now - timedelta(days=399))]
    assert await usage.delete_tenant("sol") == 1
    assert [r.tenant for r in await usage.days("2000-01-01", "2099-12-31")] == ["luna"]
