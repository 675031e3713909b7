"""What Puente keeps on disk and in its database is for its own user: DATA_DIR 0700, its
files 0600 (even one left open by an older Puente), and landing links stored only as their
hash, the links already sent included (migration 5)."""

from __future__ import annotations

import hashlib
import os
import stat

import aiohttp

from core.migrations import SCHEMA_VERSION, migrate
from core.settings import Settings
from puente.app import Puente
from tenants.service import NewTenant
from tests.fakes import FakeOpenAI
from tests.support.faults import KEY
from tests.support.stores import everything_stored


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_data_dir_and_its_files_are_private_even_under_umask_022(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # as an older Puente left it
    old = os.umask(0o022)
    openai = FakeOpenAI()
    await openai.start()
    puente = Puente(Settings(_env_file=None, data_dir=data, http_host="127.0.0.1", http_port=0, bridge_command="", ops_port=0,
                             openai_base_url=f"{openai.url}/v1"), with_admin_bot=False)
    try:
        await puente.start()
        await puente.tenants.create(NewTenant("tienda-sol", "Tienda Sol", KEY), "test")
    finally:
        await puente.stop()
        await openai.stop()
        os.umask(old)

    assert mode(data) == 0o700
    assert mode(data / "secret.key") == 0o600
    database = [p for p in data.iterdir() if p.name.startswith("puente.")]  # the database, journals, lock
    assert database and {p.name: mode(p) for p in database} == {p.name: 0o600 for p in database}


async def test_the_database_keeps_only_a_hash_of_the_landing_link(store, tenants):
    tenant = await tenants.create(NewTenant("tienda-sol", "Tienda Sol", KEY), "test")
    rotated = await tenants.rotate_landing_token("tienda-sol", "test")

    dump = await everything_stored(store)
    assert tenant.landing_token not in dump and rotated.landing_token not in dump
    assert (await tenants.get("tienda-sol")).landing_token_hash == hashlib.sha256(rotated.landing_token.encode()).hexdigest()
    assert (await tenants.by_landing_token(rotated.landing_token)).slug == "tienda-sol"
    assert await tenants.by_landing_token(tenant.landing_token) is None


async def test_links_sent_before_the_upgrade_keep_working_and_are_hashed_in_place(tmp_path):
    data = tmp_path / "data"
    openai = FakeOpenAI()
    await openai.start()
    # Migration 5 is the MongoDB back-ends' (the SQLite store never held a clear token, and
    # imports a former embedded store only after its migrations ran).
    settings = Settings(_env_file=None, data_dir=data, http_host="127.0.0.1", http_port=0, bridge_command="", ops_port=0,
                        openai_base_url=f"{openai.url}/v1", embedded_store="mongoeco")
    puente = Puente(settings, with_admin_bot=False)
    try:
        await puente.start()
        db = puente.store.db
        plain = {"tienda-sol": "sent-before-the-upgrade-0123456789", "otra-tienda": "another-old-link-9876543210ab"}
        await puente.tenants.create(NewTenant("tienda-sol", "Tienda Sol", KEY), "test")
        await puente.tenants.create(NewTenant("otra-tienda", "Otra Tienda", KEY), "test")
        await db["tenants"].drop_indexes()
        for slug, token in plain.items():  # as Puente stored them before migration 5
            await db["tenants"].update_one({"_id": slug}, {"$set": {"landing_token": token},
                                                           "$unset": {"landing_token_hash": ""}})
        await db["tenants"].create_index("landing_token", unique=True, name="landing_token_unique")
        await db["schema"].update_one({"_id": "schema"}, {"$set": {"version": 4}})
        await puente.stop()

        puente = Puente(settings, with_admin_bot=False)
        await puente.start()
        assert await migrate(puente.store.db) == SCHEMA_VERSION  # again: nothing left to do
        dump = [repr(doc) async for doc in puente.store.db["tenants"].find({})]
        assert not [line for line in dump if any(token in line for token in plain.values())]
        async with aiohttp.ClientSession() as http:
            for slug, token in plain.items():
                async with http.get(f"http://127.0.0.1:{puente.http.port}/c/{token}") as page:
                    assert page.status == 200, slug
                    assert ("Tienda Sol" if slug == "tienda-sol" else "Otra Tienda") in await page.text()
    finally:
        await puente.stop()
        await openai.stop()
