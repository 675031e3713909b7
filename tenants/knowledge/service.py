"""The knowledge service: files a tenant's assistant searches (OpenAI file search), in one
vector store per tenant named `puente-<slug>`, plus stores attached from the tenant's project.

Every OpenAI call uses the tenant's own key, without the SDK's retries (like
tenants/key_check.py): the admin bot and the owner's `aprende` show a failure at once. A store
that answers 404 was deleted at OpenAI behind Puente's back: it is marked gone (never sent to
the Responses API again) and reported as `not_found`, never retried.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import PurePath
from typing import Any

import openai

from core.clock import Clock
from tenants.knowledge.errors import KnowledgeError, from_openai
from tenants.knowledge.model import (
    ACCEPTED_EXTENSIONS,
    FAILED,
    MAX_BYTES,
    MAX_FILES,
    PROCESSING,
    READY,
    KnowledgeFile,
    KnowledgeRecord,
    KnowledgeRepository,
    KnowledgeView,
)
from tenants.service import TenantService

log = logging.getLogger("tenants.knowledge")

CALL_TIMEOUT = 60.0
_VECTOR_STORE_ID = re.compile(r"vs_[A-Za-z0-9_-]{1,128}")


def store_name(slug: str) -> str:
    """The name of a tenant's own vector store at OpenAI."""
    return f"puente-{slug}"


def file_state(vector_store_file: Any) -> tuple[str, str | None]:
    """A vector store file's status (in_progress, completed, failed, cancelled) as our state
    and OpenAI's reason."""
    status = getattr(vector_store_file, "status", None)
    if status == "completed":
        return READY, None
    if status in ("failed", "cancelled"):
        last_error = getattr(vector_store_file, "last_error", None)
        return FAILED, (getattr(last_error, "message", None) or status)
    return PROCESSING, None


async def _openai[T](call: Awaitable[T]) -> T:
    try:
        return await call
    except openai.OpenAIError as exc:
        raise from_openai(exc) from None


class Knowledge:
    """Adds, follows, removes and attaches a tenant's knowledge; answers which vector
    stores its Responses calls search (cached in memory, refreshed on every change here)."""

    def __init__(
        self, repo: KnowledgeRepository, tenants: TenantService, clock: Clock, *, base_url: str | None = None,
        poll_interval: float = 2.0, poll_timeout: float = 600.0,
    ) -> None:
        self._repo = repo
        self._tenants = tenants
        self._clock = clock
        self._base_url = base_url
        self._poll_interval = poll_interval
        self._polls = max(1, math.ceil(poll_timeout / poll_interval)) if poll_interval > 0 else 1
        self._ids: dict[str, list[str]] = {}
        self._changes: dict[str, int] = {}  # per tenant: a read that a change overtook is not cached
        self._locks: dict[str, asyncio.Lock] = {}

    async def ensure_indexes(self) -> None:
        """Create the tables or indexes its repository relies on (at start-up, with the others)."""
        await self._repo.ensure_indexes()

    # --- checks and reading ------------------------------------------------------------

    def check_upload(self, name: str, size: int) -> None:
        """Refuse what file search cannot take: bad_type (detail: the extension) or too_large."""
        extension = PurePath(name or "").suffix.lower()
        if extension not in ACCEPTED_EXTENSIONS:
            raise KnowledgeError("bad_type", extension or name or "")
        if size > MAX_BYTES:
            raise KnowledgeError("too_large", str(size))

    async def view(self, slug: str) -> KnowledgeView:
        """The tenant's store, files (oldest first) and attached stores. Files still
        processing are asked about once (one whose wait was cut short by a restart
        settles here); OpenAI failing then leaves them as they were."""
        record = await self._repo.get(slug)
        if any(f.state == PROCESSING for f in record.files) and record.vector_store_id not in record.gone:
            record = await self._settle_processing(record)
        return KnowledgeView(record.vector_store_id, list(record.files), list(record.attached), record.gone)

    async def _settle_processing(self, record: KnowledgeRecord) -> KnowledgeRecord:
        tenant = await self._tenants.find(record.tenant)
        if tenant is None or record.vector_store_id is None:
            return record
        try:
            async with self._client(tenant) as client:
                for file in record.files:
                    if file.state == PROCESSING:
                        await self._refresh(client, record.tenant, record.vector_store_id, file)
        except KnowledgeError as error:
            log.info("tenant %s: the state of its files could not be asked (%s)", record.tenant, error.code)
        return await self._repo.get(record.tenant)

    async def vector_store_ids(self, slug: str) -> list[str]:
        """For the Responses `file_search` tool: the own store once a file is ready, plus the
        attached ones; stores found deleted at OpenAI are left out. Read from the store once,
        then from memory until something changes here."""
        ids = self._ids.get(slug)
        if ids is None:
            seen = self._changes.get(slug, 0)
            ids = (await self._repo.get(slug)).usable_store_ids()
            if self._changes.get(slug, 0) == seen:
                self._ids[slug] = ids
        return list(ids)

    # --- adding and following a file ---------------------------------------------------

    async def add(self, slug: str, name: str, data: bytes) -> KnowledgeFile:
        """Upload a document and put it in the tenant's store (created on the first file);
        the file comes back in state "processing" (see wait_processed)."""
        self.check_upload(name, len(data))
        tenant = await self._tenants.get(slug)
        async with self._lock(tenant.slug), self._client(tenant) as client:
            record = await self._repo.get(tenant.slug)
            if len(record.files) >= MAX_FILES:
                raise KnowledgeError("too_many", str(MAX_FILES))
            store = await self._own_store(client, record)
            uploaded = await _openai(client.files.create(file=(name, data), purpose="assistants"))
            try:
                added = await _openai(client.vector_stores.files.create(vector_store_id=store, file_id=uploaded.id))
            except KnowledgeError as error:
                await self._quietly(client.files.delete(uploaded.id), tenant.slug, "delete an unused file")
                if error.code == "not_found":
                    await self._gone(tenant.slug, store)
                raise
            state, reason = file_state(added)
            file = KnowledgeFile(uploaded.id, name, len(data), state, reason, self._clock.now())
            await self._repo.add_file(tenant.slug, file)
        self._changed(tenant.slug)
        log.info("tenant %s: knowledge file %s added (%d bytes)", tenant.slug, file.file_id, file.size)
        return file

    async def wait_processed(self, slug: str, file_id: str) -> KnowledgeFile:
        """Poll the vector store file until OpenAI says ready or failed (its reason stored);
        after poll_timeout the file comes back still "processing"."""
        tenant = await self._tenants.get(slug)
        record = await self._repo.get(tenant.slug)
        file = self._file(record, file_id)
        store = record.vector_store_id
        async with self._client(tenant) as client:
            for poll in range(self._polls):
                if file.state != PROCESSING or store is None:
                    return file
                if poll:
                    await asyncio.sleep(self._poll_interval)
                file = await self._refresh(client, tenant.slug, store, file)
        return file

    async def _refresh(self, client: openai.AsyncOpenAI, slug: str, store: str, file: KnowledgeFile) -> KnowledgeFile:
        try:
            found = await _openai(client.vector_stores.files.retrieve(file.file_id, vector_store_id=store))
        except KnowledgeError as error:
            if error.code != "not_found":
                raise
            await self._check_store(client, slug, store)
            found = None  # the store is there but the file is not: it failed for good
        state, reason = file_state(found) if found is not None else (FAILED, "the file is no longer in the vector store")
        if state == PROCESSING:
            return file
        await self._repo.set_file_state(slug, file.file_id, state, reason)
        self._changed(slug)
        log.info("tenant %s: knowledge file %s is %s", slug, file.file_id, state)
        return KnowledgeFile(file.file_id, file.name, file.size, state, reason, file.added_at)

    # --- removing, attaching -----------------------------------------------------------

    async def remove(self, slug: str, file_id: str) -> None:
        """Take a file out of the tenant's store and delete it at OpenAI."""
        tenant = await self._tenants.get(slug)
        record = await self._repo.get(tenant.slug)
        self._file(record, file_id)
        async with self._client(tenant) as client:
            if record.vector_store_id and record.vector_store_id not in record.gone:
                await self._unless_missing(client.vector_stores.files.delete(file_id, vector_store_id=record.vector_store_id))
            await self._unless_missing(client.files.delete(file_id))
        await self._repo.remove_file(tenant.slug, file_id)
        self._changed(tenant.slug)
        log.info("tenant %s: knowledge file %s removed", tenant.slug, file_id)

    async def attach(self, slug: str, vector_store_id: str) -> None:
        """Search an existing store of the tenant's OpenAI project too (checked with retrieve)."""
        vector_store_id = (vector_store_id or "").strip()
        if not _VECTOR_STORE_ID.fullmatch(vector_store_id):
            raise KnowledgeError("bad_id", vector_store_id)
        tenant = await self._tenants.get(slug)
        async with self._client(tenant) as client:
            try:
                await _openai(client.vector_stores.retrieve(vector_store_id))
            except KnowledgeError as error:
                raise KnowledgeError(error.code, vector_store_id if error.code == "not_found" else error.detail) from None
        await self._repo.attach(tenant.slug, vector_store_id)
        self._changed(tenant.slug)

    async def detach(self, slug: str, vector_store_id: str) -> None:
        """Stop searching an attached store; it is never deleted at OpenAI."""
        tenant = await self._tenants.get(slug)
        if not await self._repo.detach(tenant.slug, (vector_store_id or "").strip()):
            raise KnowledgeError("not_attached", vector_store_id)
        self._changed(tenant.slug)

    # --- stores gone, tenants gone -----------------------------------------------------

    async def check_stores(self, slug: str) -> list[str]:
        """After a Responses call refused the tenant's stores: retrieve each one sent and mark
        those OpenAI no longer has (404) gone; the ones newly found gone."""
        tenant = await self._tenants.get(slug)
        found: list[str] = []
        async with self._client(tenant) as client:
            for store in await self.vector_store_ids(tenant.slug):
                try:
                    await self._check_store(client, tenant.slug, store)
                except KnowledgeError as error:
                    if error.code == "not_found":
                        found.append(store)
        return found

    async def forget_tenant(self, slug: str) -> None:
        """Best effort: delete the tenant's files and own store at OpenAI (attached stores are
        the tenant's own and stay), then its records. Failures are logged, never raised; a
        refused key or OpenAI out of reach stops the deletes at once (the rest would fail too)."""
        record = await self._repo.get(slug)
        tenant = await self._tenants.find(slug)
        if tenant is not None and (record.files or record.vector_store_id):
            try:
                async with self._client(tenant) as client:
                    await self._delete_everything(client, record)
            except KnowledgeError as error:
                log.warning("tenant %s (deleted): its knowledge could not be deleted at OpenAI (%s); "
                            "%d file(s) and its vector store may be left there", slug, error.code, len(record.files))
        await self._repo.delete_tenant(slug)
        self._changed(slug)
        self._locks.pop(slug, None)

    async def _delete_everything(self, client: openai.AsyncOpenAI, record: KnowledgeRecord) -> None:
        deleted = 0
        for file in record.files:
            try:
                await self._unless_missing(client.files.delete(file.file_id))
                deleted += 1
            except KnowledgeError as error:
                if error.code in ("bad_key", "unreachable"):
                    raise
                log.warning("tenant %s: could not delete a knowledge file at OpenAI (%s)", record.tenant, error.code)
        if record.vector_store_id and record.vector_store_id not in record.gone:
            await self._unless_missing(client.vector_stores.delete(record.vector_store_id))
        log.info("tenant %s (deleted): %d of %d knowledge file(s) and its vector store deleted at OpenAI",
                 record.tenant, deleted, len(record.files))

    # --- inside ------------------------------------------------------------------------

    async def _own_store(self, client: openai.AsyncOpenAI, record: KnowledgeRecord) -> str:
        if record.vector_store_id and record.vector_store_id not in record.gone:
            return record.vector_store_id
        if record.vector_store_id:
            log.warning("tenant %s: its vector store %s was deleted at OpenAI; a new one is made and its "
                        "%d earlier file(s) are forgotten", record.tenant, record.vector_store_id, len(record.files))
        created = await _openai(client.vector_stores.create(name=store_name(record.tenant)))
        await self._repo.set_store(record.tenant, created.id)
        self._changed(record.tenant)
        log.info("tenant %s: vector store %s created", record.tenant, created.id)
        return created.id

    async def _check_store(self, client: openai.AsyncOpenAI, slug: str, store: str) -> None:
        try:
            await _openai(client.vector_stores.retrieve(store))
        except KnowledgeError as error:
            if error.code == "not_found":
                await self._gone(slug, store)
                raise KnowledgeError("not_found", store) from None
            raise

    async def _gone(self, slug: str, store: str) -> None:
        if await self._repo.mark_gone(slug, store):
            log.warning("tenant %s: vector store %s no longer exists at OpenAI; it is not searched any more",
                        slug, store)
        self._changed(slug)

    @staticmethod
    def _file(record: KnowledgeRecord, file_id: str) -> KnowledgeFile:
        for file in record.files:
            if file.file_id == file_id:
                return file
        raise KnowledgeError("not_found", file_id)

    @staticmethod
    async def _unless_missing(call: Awaitable[Any]) -> None:
        try:
            await _openai(call)
        except KnowledgeError as error:
            if error.code != "not_found":
                raise

    @staticmethod
    async def _quietly(call: Awaitable[Any], slug: str, what: str) -> None:
        try:
            await _openai(call)
        except KnowledgeError as error:
            log.warning("tenant %s: could not %s at OpenAI (%s)", slug, what, error.code)

    def _changed(self, slug: str) -> None:
        self._ids.pop(slug, None)
        self._changes[slug] = self._changes.get(slug, 0) + 1

    def _lock(self, slug: str) -> asyncio.Lock:
        return self._locks.setdefault(slug, asyncio.Lock())

    @asynccontextmanager
    async def _client(self, tenant: Any) -> AsyncIterator[openai.AsyncOpenAI]:
        client = openai.AsyncOpenAI(api_key=self._tenants.openai_key(tenant), base_url=self._base_url,
                                    timeout=CALL_TIMEOUT, max_retries=0)
        try:
            yield client
        finally:
            await client.close()
