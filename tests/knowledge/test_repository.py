"""The knowledge repository's contract, on every store back-end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tenants.knowledge import KnowledgeFile

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def a_file(file_id: str, state: str = "processing", at: datetime = AT) -> KnowledgeFile:
    return KnowledgeFile(file_id, f"{file_id}.pdf", 1234, state, None, at)


async def test_an_unknown_tenant_has_empty_knowledge(knowledge_repo):
    record = await knowledge_repo.get("nadie")
    assert record.vector_store_id is None and record.files == [] and record.attached == []
    assert record.usable_store_ids() == []


async def test_files_keep_the_order_they_were_added_and_their_state(knowledge_repo):
    await knowledge_repo.set_store("sol", "vs_1")
    for n in (3, 1, 2):  # same moment: the order of adding decides
        await knowledge_repo.add_file("sol", a_file(f"file-{n}"))
    await knowledge_repo.add_file("luna", a_file("file-9"))
    assert await knowledge_repo.set_file_state("sol", "file-1", "failed", "unsupported_file")
    assert not await knowledge_repo.set_file_state("sol", "file-9", "ready", None)  # another tenant's
    record = await knowledge_repo.get("sol")
    assert [f.file_id for f in record.files] == ["file-3", "file-1", "file-2"]
    assert record.files[1] == KnowledgeFile("file-1", "file-1.pdf", 1234, "failed", "unsupported_file", AT)
    assert record.usable_store_ids() == []  # nothing ready yet
    await knowledge_repo.set_file_state("sol", "file-2", "ready", None)
    assert (await knowledge_repo.get("sol")).usable_store_ids() == ["vs_1"]
    assert await knowledge_repo.remove_file("sol", "file-2")
    assert not await knowledge_repo.remove_file("sol", "file-2")
    assert [f.file_id for f in (await knowledge_repo.get("sol")).files] == ["file-3", "file-1"]


async def test_a_new_own_store_forgets_the_files_of_the_old_one(knowledge_repo):
    await knowledge_repo.set_store("sol", "vs_old")
    await knowledge_repo.add_file("sol", a_file("file-1", "ready", AT - timedelta(days=1)))
    await knowledge_repo.set_store("sol", "vs_new")
    record = await knowledge_repo.get("sol")
    assert record.vector_store_id == "vs_new" and record.files == []


async def test_attached_and_gone_stores(knowledge_repo):
    await knowledge_repo.set_store("sol", "vs_own")
    await knowledge_repo.add_file("sol", a_file("file-1", "ready"))
    await knowledge_repo.attach("sol", "vs_a")
    await knowledge_repo.attach("sol", "vs_b")
    await knowledge_repo.attach("sol", "vs_a")  # twice is once
    assert (await knowledge_repo.get("sol")).usable_store_ids() == ["vs_own", "vs_a", "vs_b"]
    assert await knowledge_repo.mark_gone("sol", "vs_a")
    assert not await knowledge_repo.mark_gone("sol", "vs_a")
    assert await knowledge_repo.mark_gone("sol", "vs_own")
    record = await knowledge_repo.get("sol")
    assert record.attached == ["vs_a", "vs_b"] and record.gone == {"vs_a", "vs_own"}
    assert record.usable_store_ids() == ["vs_b"]
    await knowledge_repo.attach("sol", "vs_a")  # attached again: it exists after all
    assert (await knowledge_repo.get("sol")).usable_store_ids() == ["vs_a", "vs_b"]
    assert await knowledge_repo.detach("sol", "vs_a")
    assert not await knowledge_repo.detach("sol", "vs_a")
    assert (await knowledge_repo.get("sol")).attached == ["vs_b"]


async def test_deleting_a_tenant_leaves_the_others(knowledge_repo):
    for tenant in ("sol", "luna"):
        await knowledge_repo.set_store(tenant, f"vs_{tenant}")
        await knowledge_repo.add_file(tenant, a_file(f"file-{tenant}", "ready"))
        await knowledge_repo.attach(tenant, "vs_shared")
    assert await knowledge_repo.delete_tenant("sol") > 0
    assert (await knowledge_repo.get("sol")).usable_store_ids() == []
    assert (await knowledge_repo.get("luna")).usable_store_ids() == ["vs_luna", "vs_shared"]
