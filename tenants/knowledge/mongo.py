"""A tenant's knowledge on MongoDB: `knowledge` holds one document per tenant
`{_id: tenant, vector_store_id, attached: [...], gone: [...]}`, `knowledge_files` one per file
(their ObjectIds keep the order they were added)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from core.clock import utc
from tenants.knowledge.model import KnowledgeFile, KnowledgeRecord


def _file(doc: dict[str, Any]) -> KnowledgeFile:
    return KnowledgeFile(doc["file_id"], doc["name"], int(doc["size"]), doc["state"], doc.get("error"),
                         utc(doc["added_at"]))


class MongoKnowledge:
    """Tenants' knowledge on MongoDB."""

    COLLECTION = "knowledge"
    FILES = "knowledge_files"
    FILE_INDEXES = [IndexModel([("tenant", ASCENDING), ("file_id", ASCENDING)], name="tenant_file", unique=True)]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]
        self._files = db[self.FILES]

    async def ensure_indexes(self) -> None:
        await self._files.create_indexes(self.FILE_INDEXES)

    async def get(self, tenant: str) -> KnowledgeRecord:
        doc = await self._col.find_one({"_id": tenant}) or {}
        files = [_file(d) async for d in self._files.find({"tenant": tenant}).sort("_id", ASCENDING)]
        return KnowledgeRecord(tenant, doc.get("vector_store_id"), files, list(doc.get("attached", [])),
                               frozenset(doc.get("gone", [])))

    async def set_store(self, tenant: str, vector_store_id: str) -> None:
        await self._col.update_one({"_id": tenant}, {"$set": {"vector_store_id": vector_store_id}}, upsert=True)
        await self._files.delete_many({"tenant": tenant})

    async def add_file(self, tenant: str, file: KnowledgeFile) -> None:
        doc = {"tenant": tenant, "file_id": file.file_id, "name": file.name, "size": file.size,
               "state": file.state, "error": file.error, "added_at": file.added_at}
        await self._files.update_one({"tenant": tenant, "file_id": file.file_id}, {"$setOnInsert": doc}, upsert=True)

    async def set_file_state(self, tenant: str, file_id: str, state: str, error: str | None) -> bool:
        result = await self._files.update_one({"tenant": tenant, "file_id": file_id},
                                              {"$set": {"state": state, "error": error}})
        return result.matched_count > 0

    async def remove_file(self, tenant: str, file_id: str) -> bool:
        return (await self._files.delete_one({"tenant": tenant, "file_id": file_id})).deleted_count > 0

    async def attach(self, tenant: str, vector_store_id: str) -> None:
        await self._col.update_one({"_id": tenant}, {"$addToSet": {"attached": vector_store_id},
                                                     "$pull": {"gone": vector_store_id}}, upsert=True)

    async def detach(self, tenant: str, vector_store_id: str) -> bool:
        result = await self._col.update_one(
            {"_id": tenant, "attached": vector_store_id},
            {"$pull": {"attached": vector_store_id, "gone": vector_store_id}})
        return result.modified_count > 0

    async def mark_gone(self, tenant: str, vector_store_id: str) -> bool:
        result = await self._col.update_one({"_id": tenant}, {"$addToSet": {"gone": vector_store_id}}, upsert=True)
        return result.modified_count > 0 or result.upserted_id is not None

    async def delete_tenant(self, tenant: str) -> int:
        files = (await self._files.delete_many({"tenant": tenant})).deleted_count
        return files + (await self._col.delete_one({"_id": tenant})).deleted_count
