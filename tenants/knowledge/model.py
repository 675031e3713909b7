"""A tenant's knowledge as stored (its OpenAI vector store, its files, the stores attached to
it) and what its repository must offer (tenants/knowledge/mongo.py and sqlite.py implement it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# What OpenAI file search accepts (platform.openai.com/docs/guides/tools-file-search,
# "Supported files"); images, audio and spreadsheets are not among them.
ACCEPTED_EXTENSIONS: frozenset[str] = frozenset({
    ".c", ".cpp", ".cs", ".css", ".doc", ".docx", ".go", ".html", ".java", ".js", ".json", ".md",
    ".pdf", ".php", ".pptx", ".py", ".rb", ".sh", ".tex", ".ts", ".txt",
})
MAX_FILES = 100
MAX_BYTES = 20 * 1024 * 1024  # Telegram's getFile limit for bots

PROCESSING = "processing"
READY = "ready"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class KnowledgeFile:
    """One document in the tenant's vector store."""

    file_id: str  # OpenAI file id
    name: str  # the name the document had in Telegram/WhatsApp
    size: int  # bytes
    state: str  # "processing" | "ready" | "failed"
    error: str | None  # OpenAI's reason when failed
    added_at: datetime


@dataclass(frozen=True, slots=True)
class KnowledgeView:
    """What the operator sees of a tenant's knowledge."""

    vector_store_id: str | None  # the tenant's own store "puente-<slug>", None before the first file
    files: list[KnowledgeFile]  # oldest first
    attached: list[str]  # vector stores attached with `/kb <slug> attach vs_...`
    gone: frozenset[str] = frozenset()  # of those, the stores deleted at OpenAI (no longer searched)


@dataclass(frozen=True, slots=True)
class KnowledgeRecord:
    """Everything stored of one tenant's knowledge, including the stores found deleted at
    OpenAI (kept to be reported, never sent to the Responses API)."""

    tenant: str
    vector_store_id: str | None = None
    files: list[KnowledgeFile] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    gone: frozenset[str] = frozenset()  # vector store ids that answered 404

    def usable_store_ids(self) -> list[str]:
        """For the file_search tool: the own store once a file is ready, and the attached
        stores, less those deleted at OpenAI."""
        own = [self.vector_store_id] if self.vector_store_id and any(f.state == READY for f in self.files) else []
        return [vs for vs in own + self.attached if vs not in self.gone]


class KnowledgeRepository(Protocol):
    """Stores each tenant's knowledge; every method is one write or read."""

    async def ensure_indexes(self) -> None: ...

    async def get(self, tenant: str) -> KnowledgeRecord:
        """The tenant's knowledge (an empty record when it has none)."""
        ...

    async def set_store(self, tenant: str, vector_store_id: str) -> None:
        """The tenant's own vector store from now on; files recorded in an earlier store are forgotten."""
        ...

    async def add_file(self, tenant: str, file: KnowledgeFile) -> None: ...

    async def set_file_state(self, tenant: str, file_id: str, state: str, error: str | None) -> bool:
        """Change a file's state; False when the tenant has no such file."""
        ...

    async def remove_file(self, tenant: str, file_id: str) -> bool: ...

    async def attach(self, tenant: str, vector_store_id: str) -> None:
        """Attach a store (last; it exists, so it is no longer gone)."""
        ...

    async def detach(self, tenant: str, vector_store_id: str) -> bool: ...

    async def mark_gone(self, tenant: str, vector_store_id: str) -> bool:
        """Remember that this store answered 404; False when it was already known gone."""
        ...

    async def delete_tenant(self, tenant: str) -> int: ...
