"""Tenant repository and service: CRUD, validation, secrets never stored or logged in clear."""

from __future__ import annotations

import logging

import pytest

from core.events import TenantCreated, TenantDeleted, TenantDisabled, TenantKeyChanged
from core.sqlite import Database
from tenants.errors import InvalidInput, SlugTaken, TenantNotFound
from tenants.hours import close_now
from tenants.service import NewTenant

KEY = "sk-test-abcdefghijklmnopqrstuvwxyz1234"


def new(slug="tienda-sol", **kw) -> NewTenant:
    return NewTenant(slug=slug, name=kw.pop("name", "Tienda Sol"), openai_key=kw.pop("openai_key", KEY), **kw)


async def everything_stored(store) -> str:
    """Every stored record of every table or collection, as text."""
    db = store.db
    if isinstance(db, Database):
        def dump(conn) -> str:
            tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return repr([conn.execute(f'SELECT * FROM "{table}"').fetchall() for table in tables])
        return await db.read(dump)
    return repr([doc for name in await db.list_collection_names() async for doc in db[name].find({})])


async def test_create_read_update_delete(tenants, published):
    created = await tenants.create(new(email="dueno@tienda.cl"), actor="admin:1")
    assert created.openai_key_hint == "sk-…1234"
    assert created.model == "gpt-4.1-mini" and created.enabled
    assert len(created.landing_token) >= 22  # >= 128 random bits, URL-safe
    assert published == [TenantCreated("tienda-sol")]

    got = await tenants.get("tienda-sol")
    assert got.name == "Tienda Sol" and got.email == "dueno@tienda.cl"
    assert tenants.openai_key(got) == KEY

    await tenants.set_model("tienda-sol", "gpt-4.1", actor="admin:1")
    await tenants.set_enabled("tienda-sol", False, actor="admin:1")
    changed = await tenants.update_settings("tienda-sol", "admin:1", groups_enabled=True, debounce_seconds=0)
    assert changed.model == "gpt-4.1" and not changed.enabled
    assert changed.settings.groups_enabled and changed.settings.debounce_seconds == 0
    assert TenantDisabled("tienda-sol") in published

    await tenants.delete("tienda-sol", actor="admin:1")
    assert published[-1] == TenantDeleted("tienda-sol")
    with pytest.raises(TenantNotFound):
        await tenants.get("tienda-sol")


async def test_duplicate_slug_is_a_clear_error(tenants):
    await tenants.create(new(), actor="admin:1")
    with pytest.raises(SlugTaken, match="already taken"):
        await tenants.create(new(name="Otra"), actor="admin:1")
    assert (await tenants.get("tienda-sol")).name == "Tienda Sol"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"slug": "A"}, "slug"),
        ({"slug": "../etc"}, "slug"),
        ({"slug": "x" * 33}, "slug"),
        ({"email": "not-an-email"}, "email"),
        ({"openai_key": "hello"}, "openai_key"),
        ({"name": "   "}, "name"),
    ],
)
async def test_bad_input_changes_nothing(tenants, kw, field):
    kw = dict(kw)  # the parameters are shared by every back-end's run
    slug = kw.pop("slug", "tienda-sol")
    with pytest.raises(InvalidInput) as caught:
        await tenants.create(new(slug=slug, **kw), actor="admin:1")
    assert caught.value.field == field
    assert (await tenants.page(0))[1] == 0


async def test_bad_settings_are_refused(tenants):
    await tenants.create(new(), actor="admin:1")
    with pytest.raises(InvalidInput):
        await tenants.update_settings("tienda-sol", "admin:1", debounce_seconds=-1)
    with pytest.raises(InvalidInput):
        await tenants.update_settings("tienda-sol", "admin:1", nonsense=True)
    for bad in ({"reject_calls": "yes"}, {"call_message": "  "}, {"call_message": "x" * 1001}):
        with pytest.raises(InvalidInput):
            await tenants.update_settings("tienda-sol", "admin:1", **bad)
    assert not (await tenants.get("tienda-sol")).settings.reject_calls
    assert (await tenants.get("tienda-sol")).settings.debounce_seconds == 2.0


async def test_key_is_encrypted_at_rest_and_never_logged(tenants, store, caplog, published):
    caplog.set_level(logging.DEBUG)
    await tenants.create(new(), actor="admin:1")
    await tenants.set_openai_key("tienda-sol", KEY.replace("1234", "9999"), actor="admin:1")
    assert published[-1] == TenantKeyChanged("tienda-sol")
    assert "sk-test-abcdefghij" not in await everything_stored(store)
    assert "sk-test-abcdefghij" not in caplog.text


async def test_bridge_token_is_stored_only_as_hash(tenants, store):
    await tenants.create(new(), actor="admin:1")
    token = await tenants.issue_bridge_token("tienda-sol")
    assert token not in await everything_stored(store)
    assert (await tenants.verify_bridge_token("tienda-sol", token)).slug == "tienda-sol"
    assert await tenants.verify_bridge_token("tienda-sol", token + "x") is None
    newer = await tenants.issue_bridge_token("tienda-sol")
    assert await tenants.verify_bridge_token("tienda-sol", token) is None
    assert await tenants.verify_bridge_token("tienda-sol", newer) is not None


async def test_rotating_the_landing_token_invalidates_the_old_one(tenants):
    created = await tenants.create(new(), actor="admin:1")
    rotated = await tenants.rotate_landing_token("tienda-sol", actor="admin:1")
    assert rotated.landing_token != created.landing_token
    assert await tenants.by_landing_token(created.landing_token) is None
    assert (await tenants.by_landing_token(rotated.landing_token)).slug == "tienda-sol"


async def test_every_admin_action_is_audited_without_secrets(tenants, store):
    await tenants.create(new(), actor="admin:7")
    await tenants.set_openai_key("tienda-sol", KEY, actor="admin:7")
    await tenants.set_email("tienda-sol", "a@b.cl", actor="admin:7")
    entries = await tenants._audit.for_tenant("tienda-sol")
    assert [e.action for e in entries] == ["email", "key", "create"]
    assert all(e.actor == "admin:7" for e in entries)
    assert "sk-" not in repr([e.detail for e in entries])


async def test_paging_lists_tenants_in_slug_order(tenants):
    for i in range(12):
        await tenants.create(new(slug=f"t{i:02d}"), actor="admin:1")
    first, total = await tenants.page(0)
    second, _ = await tenants.page(1)
    assert total == 12 and len(first) == 10 and [t.slug for t in second] == ["t10", "t11"]


async def test_hours_set_again_keep_the_closed_dates_zone_and_mode_and_every_change_is_audited(tenants, published):
    await tenants.create(new(), actor="admin:7")
    await tenants.set_hours("tienda-sol", ["America/Santiago", "lu-vi", "09:00-18:00", "away"], "admin:7")
    await tenants.add_closed_dates("tienda-sol", ["24/12", "01/01"], "admin:7")
    tenant = await tenants.set_hours("tienda-sol", ["lu-sa", "10:00-14:00"], "admin:7")
    assert (tenant.hours.timezone, tenant.hours.mode, tenant.hours.describe()) == (
        "America/Santiago", "away", "lu-sa 10:00-14:00")
    assert [d.isoformat() for d in tenant.hours.closed] == ["2026-12-24", "2027-01-01"]
    with pytest.raises(InvalidInput) as refused:
        await tenants.set_hours("tienda-sol", ["Mars/Olympus", "lu-vi", "09:00-18:00"], "admin:7")
    assert refused.value.field == "timezone"
    assert (await tenants.get("tienda-sol")).hours == tenant.hours
    await tenants.clear_hours("tienda-sol", "admin:7")
    assert (await tenants.get("tienda-sol")).hours is None
    entries = await tenants._audit.for_tenant("tienda-sol")
    assert [e.action for e in entries][:4] == ["hours", "hours", "closed_dates", "hours"]


async def test_the_owners_override_is_stored_and_published(tenants, published, clock):
    await tenants.create(new(), actor="admin:7")
    override = close_now(None, clock.now())
    assert (await tenants.set_hours_override("tienda-sol", override)).hours_override == override
    assert (await tenants.get("tienda-sol")).hours_override == override
    assert (await tenants.set_hours_override("tienda-sol", None)).hours_override is None
    assert published[-1].tenant == "tienda-sol"


async def test_a_budget_is_set_parsed_and_cleared_and_bad_input_changes_nothing(tenants, published):
    await tenants.create(new(), actor="admin:7")
    tenant = await tenants.set_budget("tienda-sol", ["10,5", "fallback", "gpt-4.1-nano"], "admin:7")
    assert (tenant.budget.usd, tenant.budget.action, tenant.budget.fallback_model) == (10.5, "fallback", "gpt-4.1-nano")
    for words, field in ((["0"], "amount"), (["-3"], "amount"), (["diez"], "amount"), (["5", "pause"], "action"),
                         (["5", "fallback"], "model"), (["5", "fallback", "no model!"], "model")):
        with pytest.raises(InvalidInput) as refused:
            await tenants.set_budget("tienda-sol", words, "admin:7")
        assert refused.value.field == field
    assert (await tenants.get("tienda-sol")).budget == tenant.budget
    assert (await tenants.set_budget("tienda-sol", ["20"], "admin:7")).budget.action == "stop"
    assert (await tenants.clear_budget("tienda-sol", "admin:7")).budget is None
    assert [e.action for e in await tenants._audit.for_tenant("tienda-sol")][:3] == ["budget"] * 3
