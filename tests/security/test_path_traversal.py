"""Tenant ids that try to leave DATA_DIR (`../x`, `..`, `a/b`, `%2e%2e`, ...) are refused
everywhere a slug comes in: the tenant service, the admin bot's commands, the bridge
endpoint, the supervisor's session directories and the landing page's token path. Nothing
is created, read or deleted outside where it belongs."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest

from relay.bridges.errors import BridgeError
from tenants.errors import InvalidInput
from tenants.service import NewTenant
from tests.fakes import BridgeRejected, FakeBridge
from tests.support.faults import ADMIN, KEY, FaultWorld

EVIL = ["../x", "..", "a/b", "%2e%2e", "..%2Fvictim", "../victim", "/etc", "a\\b", ".", "x/../../victim",
        "victim\x00", "ｖｉｃｔｉｍ/..", "sessions/../../victim"]


def tree(root: Path) -> set[str]:
    """Every path under `root`, except the store's own files (they change as it writes)."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.relpath(os.path.join(dirpath, name), root)
            if not path.startswith("data/puente."):
                out.add(path)
    return out


@pytest.fixture
async def world(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "victim").mkdir()
    async with FaultWorld(tmp_path, with_admin_bot=True, bridge_command="true") as world:
        yield world
    assert (victim / "precious.txt").read_text() == "keep me"
    assert (tmp_path / "data" / "victim").is_dir()


async def test_the_tenant_service_refuses_every_escaping_slug(world):
    for slug in EVIL:
        with pytest.raises(InvalidInput):
            await world.puente.tenants.create(NewTenant(slug, "Evil", KEY), "test")
    assert await world.puente.tenants.all() == []


async def test_bot_commands_with_escaping_slugs_answer_and_change_nothing(world, tmp_path):
    telegram = world.telegram
    await world.add_tenant("tienda")
    before = tree(tmp_path)
    commands = []
    for slug in EVIL:
        commands += [f"/newtenant {slug} ana@sol.cl {KEY}", f"/tenant {slug}", f"/qr {slug}", f"/pair {slug} 56911112222",
                     f"/delete {slug}", f"/disable {slug}", f"/enable {slug}", f"/logout {slug}", f"/invite {slug}",
                     f"/email {slug} a@b.cl", f"/model {slug} gpt-4.1-mini", f"/settings {slug}", f"/key {slug}",
                     f"/prompt {slug}"]
    for n, command in enumerate(commands):
        before_count = len(telegram.messages_in(ADMIN))
        telegram.push_message(ADMIN, command)
        await telegram.wait_for_message(
            ADMIN, lambda m, b=before_count: m in telegram.messages_in(ADMIN)[b:], timeout=10)
        telegram.push_message(ADMIN, "/cancel")  # leave any flow the command may have opened
        await telegram.wait_updates_consumed(timeout=10)
    assert [t.slug for t in await world.puente.tenants.all()] == ["tienda"]
    assert (await world.puente.tenants.get("tienda")).enabled
    after = tree(tmp_path)
    # the supervisor may create the sessions folder and tienda's own at any moment; nothing else
    assert after - before <= {p for p in after if p == "data/sessions" or p.startswith("data/sessions/tienda")}, \
        after - before


async def test_supervisor_refuses_session_directories_outside_sessions(world, tmp_path):
    supervisor = world.puente.supervisor
    for slug in EVIL:
        with pytest.raises(BridgeError):
            supervisor.session_dir(slug)
        with pytest.raises(BridgeError):
            await supervisor.stop_bridge(slug, remove_session=True)
    assert (tmp_path / "victim" / "precious.txt").exists()


async def test_bridge_endpoint_refuses_escaping_tenant_headers(world):
    await world.add_tenant("tienda")
    token = await world.puente.tenants.issue_bridge_token("tienda")
    for n, slug in enumerate(s for s in EVIL if "\x00" not in s):  # a NUL is not sendable in a header
        bridge = FakeBridge(world.bridge_url, slug, token)
        with pytest.raises(BridgeRejected) as refused:
            await bridge.connect()
        await bridge.stop()
        # after ten failures from one address the relay answers 429 without looking anything up
        assert refused.value.status == (401 if n < 10 else 429)


@pytest.mark.parametrize("path", [
    "/c/..", "/c/../data/puente.db", "/c/../data/puente.sqlite3", "/c/%2e%2e/%2e%2e/etc/passwd", "/c/..%2F..%2Fdata%2Fsecret.key",
    "/c/%2e%2e%2f%2e%2e%2fpyproject.toml", "/static/../puente/app.py", "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/..%2F..%2Fpyproject.toml", "/c/....//....//pyproject.toml", "/c/a%00b",
])
async def test_landing_and_static_paths_never_leave_their_folder(world, path):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{world.puente.http.port}{path}", allow_redirects=False) as response:
            body = await response.read()
    assert response.status in (400, 403, 404), (path, response.status)
    for secret in (b"[project]", b"SQLite format", b"class Puente", b"root:x:0:0"):
        assert secret not in body
