"""A tenant's knowledge: files searched by OpenAI's file_search tool, in one vector store per
tenant, plus stores attached from the tenant's own OpenAI project. The service (`Knowledge`),
its records and errors, and the repository's two back-ends; `open_knowledge` picks the one
for the store in use."""

from __future__ import annotations

from typing import Any

from core.sqlite import Database
from tenants.knowledge.errors import KnowledgeError
from tenants.knowledge.model import (
    ACCEPTED_EXTENSIONS,
    MAX_BYTES,
    MAX_FILES,
    KnowledgeFile,
    KnowledgeRecord,
    KnowledgeRepository,
    KnowledgeView,
)
from tenants.knowledge.mongo import MongoKnowledge
from tenants.knowledge.service import Knowledge
from tenants.knowledge.sqlite import SqliteKnowledge

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "MAX_BYTES",
    "MAX_FILES",
    "Knowledge",
    "KnowledgeError",
    "KnowledgeFile",
    "KnowledgeRecord",
    "KnowledgeRepository",
    "KnowledgeView",
    "open_knowledge",
]


def open_knowledge(db: Any) -> KnowledgeRepository:
    """The knowledge repository of a store's database (`Store.db`)."""
    return SqliteKnowledge(db) if isinstance(db, Database) else MongoKnowledge(db)
