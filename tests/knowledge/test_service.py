"""The knowledge service against the fake OpenAI's files and vector stores (real SDK, real
HTTP): what the operator and the owner see of adding, following, removing and attaching."""

from __future__ import annotations

import pytest

from tenants.knowledge import MAX_BYTES, MAX_FILES, KnowledgeError
from tests.knowledge.conftest import KEY, SLUG

MENU = b"%PDF-1.4 menu: empanadas 2.500, completos 3.000"


async def test_first_file_makes_the_tenants_store_and_becomes_ready(knowledge, fake_openai):
    assert await knowledge.vector_store_ids(SLUG) == []
    added = await knowledge.add(SLUG, "menu.pdf", MENU)
    assert added.state == "processing" and added.name == "menu.pdf" and added.size == len(MENU)
    store = fake_openai.files.store_named(f"puente-{SLUG}")
    assert store is not None and added.file_id in store.files
    assert fake_openai.files.files[added.file_id].purpose == "assistants"
    assert fake_openai.files.files[added.file_id].data == MENU
    assert await knowledge.vector_store_ids(SLUG) == []  # not before a file is ready
    ready = await knowledge.wait_processed(SLUG, added.file_id)
    assert ready.state == "ready" and ready.error is None
    assert await knowledge.vector_store_ids(SLUG) == [store.id]
    view = await knowledge.view(SLUG)
    assert view.vector_store_id == store.id and view.files == [ready] and view.attached == []


async def test_a_second_file_goes_to_the_same_store(knowledge, fake_openai):
    first = await knowledge.add(SLUG, "menu.pdf", MENU)
    second = await knowledge.add(SLUG, "horarios.txt", b"abrimos a las 9")
    assert len(fake_openai.files.stores) == 1
    assert [f.file_id for f in (await knowledge.view(SLUG)).files] == [first.file_id, second.file_id]


async def test_a_file_openai_cannot_process_is_failed_with_its_reason(knowledge, fake_openai):
    fake_openai.files.fail_processing("escaneo.pdf", "invalid_file", "The file could not be parsed.")
    added = await knowledge.add(SLUG, "escaneo.pdf", b"%PDF garbage")
    failed = await knowledge.wait_processed(SLUG, added.file_id)
    assert failed.state == "failed" and failed.error == "The file could not be parsed."
    assert (await knowledge.view(SLUG)).files[0].error == "The file could not be parsed."
    assert await knowledge.vector_store_ids(SLUG) == []  # nothing ready: no tool


async def test_a_file_still_processing_after_the_timeout_comes_back_processing(knowledge, fake_openai):
    fake_openai.files.processing_polls = 10_000
    added = await knowledge.add(SLUG, "grande.pdf", MENU)
    assert (await knowledge.wait_processed(SLUG, added.file_id)).state == "processing"


@pytest.mark.parametrize(("name", "size", "code"), [
    ("foto.jpg", 10, "bad_type"), ("planilla.xlsx", 10, "bad_type"), ("sin_extension", 10, "bad_type"),
    ("menu.pdf", MAX_BYTES + 1, "too_large"),
])
async def test_what_file_search_cannot_take_is_refused_before_any_upload(knowledge, fake_openai, name, size, code):
    with pytest.raises(KnowledgeError) as caught:
        knowledge.check_upload(name, size)
    assert caught.value.code == code
    with pytest.raises(KnowledgeError):
        await knowledge.add(SLUG, name, b"x" * size)
    assert fake_openai.files.files == {} and fake_openai.files.stores == {}


async def test_upper_case_extensions_are_accepted(knowledge):
    knowledge.check_upload("MENU.PDF", 10)
    knowledge.check_upload("notas.Md", 10)


async def test_more_than_the_file_limit_is_refused(knowledge, knowledge_repo, fake_openai):
    from tests.knowledge.test_repository import a_file
    await knowledge_repo.set_store(SLUG, "vs_x")
    for n in range(MAX_FILES):
        await knowledge_repo.add_file(SLUG, a_file(f"file-{n}"))
    with pytest.raises(KnowledgeError) as caught:
        await knowledge.add(SLUG, "uno-mas.pdf", MENU)
    assert caught.value.code == "too_many" and fake_openai.files.files == {}


async def test_openai_refusing_the_upload_is_rejected_with_its_reason(knowledge, fake_openai):
    fake_openai.files.reject_upload("menu.pdf", "Invalid file format. Supported formats: ...")
    with pytest.raises(KnowledgeError) as caught:
        await knowledge.add(SLUG, "menu.pdf", MENU)
    assert caught.value.code == "rejected" and caught.value.detail.startswith("Invalid file format")
    assert (await knowledge.view(SLUG)).files == []


@pytest.mark.parametrize(("kind", "code"), [("401", "bad_key"), ("429_quota", "quota"), ("500", "unreachable")])
async def test_openai_failures_have_their_codes_and_never_the_key(knowledge, fake_openai, kind, code):
    fake_openai.files.fail_next(kind)
    with pytest.raises(KnowledgeError) as caught:
        await knowledge.add(SLUG, "menu.pdf", MENU)
    assert caught.value.code == code and KEY not in str(caught.value)
    assert (await knowledge.view(SLUG)).files == []


async def test_openai_out_of_reach_is_unreachable(knowledge, knowledge_repo, tenants, clock):
    from tenants.knowledge import Knowledge
    offline = Knowledge(knowledge_repo, tenants, clock, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(KnowledgeError) as caught:
        await offline.add(SLUG, "menu.pdf", MENU)
    assert caught.value.code == "unreachable"


async def test_removing_a_file_takes_it_out_and_deletes_it_at_openai(knowledge, fake_openai):
    added = await knowledge.add(SLUG, "menu.pdf", MENU)
    await knowledge.wait_processed(SLUG, added.file_id)
    await knowledge.remove(SLUG, added.file_id)
    assert added.file_id in fake_openai.files.deleted_files
    assert all(added.file_id not in s.files for s in fake_openai.files.stores.values())
    assert (await knowledge.view(SLUG)).files == []
    assert await knowledge.vector_store_ids(SLUG) == []  # the tool goes with the last ready file
    with pytest.raises(KnowledgeError) as caught:
        await knowledge.remove(SLUG, added.file_id)
    assert caught.value.code == "not_found"


async def test_attach_checks_the_store_exists_and_detach_never_deletes_it(knowledge, fake_openai):
    existing = fake_openai.files.add_store(KEY, "asistente viejo", {"politicas.pdf": b"devoluciones 30 dias"})
    for bad in ("vs_no-existe", "asst_123", "vs_", "vs_a b"):
        with pytest.raises(KnowledgeError) as caught:
            await knowledge.attach(SLUG, bad)
        assert caught.value.code == ("not_found" if bad == "vs_no-existe" else "bad_id")
    await knowledge.attach(SLUG, existing.id)
    assert (await knowledge.view(SLUG)).attached == [existing.id]
    assert await knowledge.vector_store_ids(SLUG) == [existing.id]  # attached stores count without own files
    await knowledge.detach(SLUG, existing.id)
    assert existing.id in fake_openai.files.stores
    assert await knowledge.vector_store_ids(SLUG) == []
    with pytest.raises(KnowledgeError) as caught:
        await knowledge.detach(SLUG, existing.id)
    assert caught.value.code == "not_attached"


async def test_another_projects_store_cannot_be_attached(knowledge, fake_openai):
    theirs = fake_openai.files.add_store("sk-test-someone-else", "ajeno")
    with pytest.raises(KnowledgeError) as caught:
        await knowledge.attach(SLUG, theirs.id)
    assert caught.value.code == "not_found" and caught.value.detail == theirs.id


async def test_a_store_deleted_at_openai_is_noticed_once_and_not_searched(knowledge, fake_openai):
    added = await knowledge.add(SLUG, "menu.pdf", MENU)
    await knowledge.wait_processed(SLUG, added.file_id)
    [store] = await knowledge.vector_store_ids(SLUG)
    fake_openai.files.vanish(store)
    assert await knowledge.check_stores(SLUG) == [store]
    assert await knowledge.vector_store_ids(SLUG) == []
    assert (await knowledge.view(SLUG)).gone == {store}
    asked = len(fake_openai.requests)
    assert await knowledge.check_stores(SLUG) == []  # not asked again
    assert len(fake_openai.requests) == asked


async def test_a_store_gone_while_a_file_processes_is_not_found(knowledge, fake_openai):
    added = await knowledge.add(SLUG, "menu.pdf", MENU)
    fake_openai.files.vanish((await knowledge.view(SLUG)).vector_store_id)
    with pytest.raises(KnowledgeError) as caught:
        await knowledge.wait_processed(SLUG, added.file_id)
    assert caught.value.code == "not_found"
    # The next file makes a new store instead of failing forever.
    again = await knowledge.add(SLUG, "menu.pdf", MENU)
    assert (await knowledge.wait_processed(SLUG, again.file_id)).state == "ready"
    view = await knowledge.view(SLUG)
    assert [f.file_id for f in view.files] == [again.file_id]
    assert await knowledge.vector_store_ids(SLUG) == [view.vector_store_id]


async def test_forgetting_a_tenant_deletes_its_files_and_store_but_not_attached_ones(knowledge, fake_openai):
    existing = fake_openai.files.add_store(KEY, "asistente viejo")
    await knowledge.attach(SLUG, existing.id)
    added = await knowledge.add(SLUG, "menu.pdf", MENU)
    own = (await knowledge.view(SLUG)).vector_store_id
    await knowledge.forget_tenant(SLUG)
    assert added.file_id in fake_openai.files.deleted_files and own in fake_openai.files.deleted_stores
    assert existing.id in fake_openai.files.stores
    view = await knowledge.view(SLUG)
    assert view.vector_store_id is None and view.files == [] and view.attached == []


async def test_forgetting_a_tenant_is_best_effort(knowledge, fake_openai, caplog):
    await knowledge.add(SLUG, "menu.pdf", MENU)
    fake_openai.files.fail_next("500", 5)
    await knowledge.forget_tenant(SLUG)  # never raises
    assert (await knowledge.view(SLUG)).files == []
    assert "could not be deleted at OpenAI (unreachable)" in caplog.text and KEY not in caplog.text


async def test_deleting_the_tenant_through_the_service_forgets_its_knowledge(knowledge, tenants, fake_openai):
    tenants.before_delete(lambda tenant: knowledge.forget_tenant(tenant.slug))
    added = await knowledge.add(SLUG, "menu.pdf", MENU)
    await tenants.delete(SLUG, actor="admin:1")
    assert added.file_id in fake_openai.files.deleted_files and fake_openai.files.stores == {}


class CountingRepository:
    """The real repository, counting the reads the relay would make per message."""

    def __init__(self, repo) -> None:
        self.repo = repo
        self.reads = 0

    def __getattr__(self, name):
        return getattr(self.repo, name)

    async def get(self, tenant):
        self.reads += 1
        return await self.repo.get(tenant)


async def test_the_tools_stores_are_read_once_until_the_knowledge_changes(knowledge_repo, tenants, clock, fake_openai,
                                                                          knowledge):
    from tenants.knowledge import Knowledge
    counting = CountingRepository(knowledge_repo)
    cached = Knowledge(counting, tenants, clock, base_url=f"{fake_openai.url}/v1", poll_interval=0.01)
    for _ in range(50):  # fifty customer messages
        assert await cached.vector_store_ids(SLUG) == []
    assert counting.reads == 1
    added = await cached.add(SLUG, "menu.pdf", MENU)
    await cached.wait_processed(SLUG, added.file_id)
    reads = counting.reads
    ids = [await cached.vector_store_ids(SLUG) for _ in range(50)]
    assert ids[0] == [(await cached.view(SLUG)).vector_store_id] and all(i == ids[0] for i in ids)
    assert counting.reads == reads + 2  # the first call after the change, and the view above


async def test_the_view_settles_a_file_whose_wait_was_cut_short(knowledge, fake_openai):
    fake_openai.files.processing_polls = 0  # OpenAI is done by the first time it is asked
    added = await knowledge.add(SLUG, "menu.pdf", MENU)  # and Puente restarted before wait_processed
    assert added.state == "processing"
    [seen] = (await knowledge.view(SLUG)).files
    assert seen.file_id == added.file_id and seen.state == "ready"
    assert await knowledge.vector_store_ids(SLUG) != []


async def test_the_view_shows_what_is_stored_when_openai_fails(knowledge, fake_openai):
    await knowledge.add(SLUG, "menu.pdf", MENU)
    fake_openai.files.fail_next("500")
    [seen] = (await knowledge.view(SLUG)).files
    assert seen.state == "processing"


async def test_a_read_overtaken_by_a_change_is_not_kept(knowledge_repo, tenants, clock, fake_openai, knowledge):
    import asyncio

    from tenants.knowledge import Knowledge

    class SlowFirstRead(CountingRepository):
        def __init__(self, repo) -> None:
            super().__init__(repo)
            self.release = asyncio.Event()

        async def get(self, tenant):
            record = await super().get(tenant)
            if self.reads == 1:
                await self.release.wait()  # the record read before the change lands
            return record

    slow = SlowFirstRead(knowledge_repo)
    cached = Knowledge(slow, tenants, clock, base_url=f"{fake_openai.url}/v1", poll_interval=0.01)
    reading = asyncio.create_task(cached.vector_store_ids(SLUG))
    await asyncio.sleep(0.05)
    added = await cached.add(SLUG, "menu.pdf", MENU)
    await cached.wait_processed(SLUG, added.file_id)
    slow.release.set()
    assert await reading == []  # what was stored when it was read
    assert await cached.vector_store_ids(SLUG) == [(await cached.view(SLUG)).vector_store_id]
