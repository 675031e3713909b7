"""The tenant repository on MongoDB: the `tenants` collection, the slug as `_id`."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from tenants.errors import SlugTaken
from tenants.model import Tenant


class MongoTenants:
    """Stores tenants on MongoDB; the slug is the document id."""

    COLLECTION = "tenants"
    INDEXES = [
        IndexModel([("landing_token_hash", ASCENDING)], unique=True, name="landing_token_hash_unique"),
        IndexModel([("enabled", ASCENDING)], name="enabled"),
    ]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)

    async def insert(self, tenant: Tenant) -> None:
        try:
            await self._col.insert_one(tenant.to_doc())
        except DuplicateKeyError:
            raise SlugTaken(tenant.slug) from None

    async def get(self, slug: str) -> Tenant | None:
        doc = await self._col.find_one({"_id": slug})
        return Tenant.from_doc(doc) if doc else None

    async def by_landing_token_hash(self, token_hash: str) -> Tenant | None:
        doc = await self._col.find_one({"landing_token_hash": token_hash})
        return Tenant.from_doc(doc) if doc else None

    async def update(self, slug: str, changes: dict[str, Any]) -> Tenant | None:
        """Set fields (dotted paths allowed); return the tenant as it is now."""
        doc = await self._col.find_one_and_update(
            {"_id": slug}, {"$set": changes}, return_document=ReturnDocument.AFTER
        )
        return Tenant.from_doc(doc) if doc else None

    async def delete(self, slug: str) -> bool:
        result = await self._col.delete_one({"_id": slug})
        return result.deleted_count == 1

    async def page(self, skip: int, limit: int) -> list[Tenant]:
        cursor = self._col.find({}).sort("_id", ASCENDING).skip(skip).limit(limit)
        return [Tenant.from_doc(doc) async for doc in cursor]

    async def all(self, *, enabled_only: bool = False) -> list[Tenant]:
        query = {"enabled": True} if enabled_only else {}
        return [Tenant.from_doc(doc) async for doc in self._col.find(query).sort("_id", ASCENDING)]

    async def count(self) -> int:
        return await self._col.count_documents({})
