"""Files and vector stores of the fake OpenAI, and what its Responses add for a `file_search`
tool: served by a FakeOpenAI's own loopback server (every FakeOpenAI has one, `fake.files`).

A response whose request carries `{"type": "file_search", "vector_store_ids": [...]}` starts
with a `file_search_call` item, and its output_text carries a `file_citation` annotation per
ready file of those stores (a reply function may write markers like `【4:0†menu.pdf】` in the
text, as models do); a store OpenAI does not have (deleted, or another project's) makes the
whole request fail with 404 (the message names the store).

Object shapes are those of OpenAI's OpenAPI document (github.com/openai/openai-openapi,
commit f85dbe2): OpenAIFile, DeleteFileResponse, VectorStoreObject,
DeleteVectorStoreResponse, VectorStoreFileObject (status in_progress, completed, failed or
cancelled; last_error {code, message}), DeleteVectorStoreFileResponse, FileSearchToolCall
and the FileCitationBody annotation of an output_text.

What tests steer: `processing_polls` (how many retrieves a file stays in_progress),
`fail_processing(name, ...)` (the file ends `failed` with OpenAI's last_error),
`vanish(vector_store_id)` (the store is deleted at OpenAI behind Puente's back: 404 from then
on, the Responses API included), `fail_next(kind)` (401, 429_quota, 500 on the next file or
vector store request), `reject_upload(name, message)` (files.create answers 400).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .openai_api import FakeOpenAI, ResponseRequest

FILE_FAILURES = ("401", "429_quota", "500")


def _error(status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
           param: str | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": type_, "param": param, "code": code}},
                             status=status)


@dataclass
class StoredFile:
    """One uploaded file (an OpenAIFile)."""

    id: str
    filename: str
    data: bytes
    purpose: str
    created_at: int
    api_key: str

    def as_object(self) -> dict[str, Any]:
        return {"id": self.id, "object": "file", "bytes": len(self.data), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "status": "processed"}


@dataclass
class StoreFile:
    """A file in a vector store (a VectorStoreFileObject) and how its processing goes."""

    file: StoredFile
    vector_store_id: str
    created_at: int
    polls_left: int
    outcome: tuple[str, str] | None = None  # (code, message) of a processing failure
    status: str = "in_progress"

    def advance(self) -> None:
        if self.status != "in_progress":
            return
        if self.polls_left > 0:
            self.polls_left -= 1
            return
        self.status = "failed" if self.outcome else "completed"

    def as_object(self) -> dict[str, Any]:
        last_error = ({"code": self.outcome[0], "message": self.outcome[1]}
                      if self.status == "failed" and self.outcome else None)
        return {"id": self.file.id, "object": "vector_store.file",
                "usage_bytes": len(self.file.data) if self.status == "completed" else 0,
                "created_at": self.created_at, "vector_store_id": self.vector_store_id,
                "status": self.status, "last_error": last_error,
                "chunking_strategy": {"type": "static",
                                      "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}},
                "attributes": {}}


@dataclass
class VectorStore:
    """One vector store (a VectorStoreObject) and its files."""

    id: str
    name: str
    created_at: int
    api_key: str
    files: dict[str, StoreFile] = field(default_factory=dict)

    def as_object(self) -> dict[str, Any]:
        counts = {status: sum(f.status == status for f in self.files.values())
                  for status in ("in_progress", "completed", "failed", "cancelled")}
        busy = counts["in_progress"] > 0
        return {"id": self.id, "object": "vector_store", "created_at": self.created_at, "name": self.name,
                "usage_bytes": sum(len(f.file.data) for f in self.files.values() if f.status == "completed"),
                "file_counts": {**counts, "total": len(self.files)},
                "status": "in_progress" if busy else "completed", "expires_after": None, "expires_at": None,
                "last_active_at": self.created_at, "metadata": {}}


class _Refused(Exception):
    """A request OpenAI answers with an error: `response` is that answer."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _answering(handler: Callable[[web.Request], Awaitable[web.Response]]):
    """The route handler, answering a _Refused with its response."""
    async def answer(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _Refused as refused:
            return refused.response
    return answer


class OpenAIFiles:
    """The files and vector stores endpoints of one FakeOpenAI (register before it starts)."""

    def __init__(self, fake: FakeOpenAI, *, processing_polls: int = 1) -> None:
        self.fake = fake
        self.processing_polls = processing_polls
        self.files: dict[str, StoredFile] = {}
        self.stores: dict[str, VectorStore] = {}
        self.deleted_files: list[str] = []
        self.deleted_stores: list[str] = []
        self.vanished: set[str] = set()
        self._failures: dict[str, tuple[str, str]] = {}  # filename -> (code, message)
        self._rejected: dict[str, str] = {}  # filename -> files.create's 400 message
        self._fail_queue: list[str] = []
        router = fake.app.router
        router.add_post("/v1/files", _answering(self._create_file))
        router.add_delete("/v1/files/{file_id}", _answering(self._delete_file))
        router.add_post("/v1/vector_stores", _answering(self._create_store))
        router.add_get("/v1/vector_stores/{vs}", _answering(self._get_store))
        router.add_delete("/v1/vector_stores/{vs}", _answering(self._delete_store))
        router.add_post("/v1/vector_stores/{vs}/files", _answering(self._add_store_file))
        router.add_get("/v1/vector_stores/{vs}/files", _answering(self._list_store_files))
        router.add_get("/v1/vector_stores/{vs}/files/{file_id}", _answering(self._get_store_file))
        router.add_delete("/v1/vector_stores/{vs}/files/{file_id}", _answering(self._delete_store_file))

    # -- knobs ---------------------------------------------------------------

    def fail_processing(self, filename: str, code: str = "unsupported_file",
                        message: str = "The file type is not supported.") -> None:
        """The file uploaded under `filename` ends `failed` with this last_error."""
        self._failures[filename] = (code, message)

    def reject_upload(self, filename: str, message: str) -> None:
        """files.create of `filename` answers 400 with this message."""
        self._rejected[filename] = message

    def vanish(self, vector_store_id: str) -> None:
        """Delete a store at OpenAI behind Puente's back."""
        self.stores.pop(vector_store_id, None)
        self.vanished.add(vector_store_id)
        self.fake.changes.changed()

    def fail_next(self, kind: str, n: int = 1) -> None:
        """The next `n` file or vector store requests fail with `kind` (FILE_FAILURES)."""
        if kind not in FILE_FAILURES:
            raise ValueError(f"unknown failure {kind!r}")
        self._fail_queue.extend([kind] * n)

    def store_named(self, name: str) -> VectorStore | None:
        return next((s for s in self.stores.values() if s.name == name), None)

    def add_store(self, api_key: str, name: str, files: dict[str, bytes] | None = None) -> VectorStore:
        """A store that already exists in a project (made outside Puente), files ready."""
        store = VectorStore("vs_" + secrets.token_hex(12), name, int(time.time()), api_key)
        for filename, data in (files or {}).items():
            stored = self._new_file(filename, data, "assistants", api_key)
            store.files[stored.id] = StoreFile(stored, store.id, stored.created_at, 0, status="completed")
        self.stores[store.id] = store
        return store

    # -- what a Responses call with file_search gets -------------------------

    def unknown_stores(self, request: ResponseRequest) -> list[str]:
        """The requested vector stores OpenAI does not have (deleted or never made)."""
        return [vs for tool in request.tools if tool.get("type") == "file_search"
                for vs in tool.get("vector_store_ids") or []
                if vs not in self.stores or self.stores[vs].api_key != request.api_key]

    def search(self, request: ResponseRequest) -> tuple[dict[str, Any], list[StoredFile]] | None:
        """The file_search_call output item and the files it found (every completed file of
        the requested stores), or None when the request has no file_search tool."""
        ids = [vs for tool in request.tools if tool.get("type") == "file_search"
               for vs in tool.get("vector_store_ids") or []]
        if not ids:
            return None
        found = [f.file for vs in ids for f in self.stores[vs].files.values() if f.status == "completed"]
        call = {"id": "fs_" + secrets.token_hex(24), "type": "file_search_call", "status": "completed",
                "queries": [request.user_text], "results": None}
        return call, found

    @staticmethod
    def citations(text: str, files: list[StoredFile]) -> list[dict[str, Any]]:
        """FileCitationBody annotations: each found file cited at the end of the text."""
        return [{"type": "file_citation", "file_id": f.id, "filename": f.filename, "index": len(text)}
                for f in files]

    # -- gatekeeping ---------------------------------------------------------

    async def _gate(self, request: web.Request) -> str:
        """The request's key; raises _Refused with OpenAI's answer to a bad key or an injected failure."""
        self.fake.requests.append((request.method, request.path))
        key = self.fake._key(request)
        if key is None:
            raise _Refused(self.fake._invalid_key())
        if self._fail_queue:
            kind = self._fail_queue.pop(0)
            self.fake.failures.append(("files", kind))
            self.fake.changes.changed()
            refusal = await self.fake._failure_response(kind)
            if refusal is not None:  # an injected timeout answers normally, too late
                raise _Refused(refusal)
        return key

    def _store(self, request: web.Request, key: str) -> VectorStore:
        vs = request.match_info["vs"]
        store = self.stores.get(vs)
        if store is None or store.api_key != key:  # another project's store is not found either
            raise _Refused(_error(404, f"No vector store found with id '{vs}'."))
        return store

    def _new_file(self, filename: str, data: bytes, purpose: str, key: str) -> StoredFile:
        stored = StoredFile("file-" + secrets.token_hex(11), filename, data, purpose, int(time.time()), key)
        self.files[stored.id] = stored
        return stored

    # -- files ---------------------------------------------------------------

    async def _create_file(self, request: web.Request) -> web.Response:
        key = await self._gate(request)
        fields: dict[str, str] = {}
        filename, data = None, b""
        async for part in await request.multipart():
            if part.name == "file":
                filename, data = part.filename, bytes(await part.read())
            else:
                fields[part.name] = await part.text()
        if not filename or not data:
            return _error(400, "Missing file.", param="file")
        if fields.get("purpose") not in ("assistants", "batch", "fine-tune", "vision", "user_data", "evals"):
            return _error(400, f"Invalid purpose: {fields.get('purpose')!r}.", param="purpose")
        if filename in self._rejected:
            return _error(400, self._rejected[filename], param="file")
        stored = self._new_file(filename, data, fields["purpose"], key)
        self.fake.changes.changed()
        return web.json_response(stored.as_object())

    async def _delete_file(self, request: web.Request) -> web.Response:
        key = await self._gate(request)
        file_id = request.match_info["file_id"]
        stored = self.files.get(file_id)
        if stored is None or stored.api_key != key:
            return _error(404, f"No such File object: {file_id}", param="id")
        del self.files[file_id]
        for store in self.stores.values():
            store.files.pop(file_id, None)
        self.deleted_files.append(file_id)
        self.fake.changes.changed()
        return web.json_response({"id": file_id, "object": "file", "deleted": True})

    # -- vector stores -------------------------------------------------------

    async def _create_store(self, request: web.Request) -> web.Response:
        key = await self._gate(request)
        body = await request.json() if request.body_exists else {}
        store = VectorStore("vs_" + secrets.token_hex(12), body.get("name") or "", int(time.time()), key)
        self.stores[store.id] = store
        self.fake.changes.changed()
        return web.json_response(store.as_object())

    async def _get_store(self, request: web.Request) -> web.Response:
        key = await self._gate(request)
        return web.json_response(self._store(request, key).as_object())

    async def _delete_store(self, request: web.Request) -> web.Response:
        key = await self._gate(request)
        store = self._store(request, key)
        del self.stores[store.id]  # its files stay, as at OpenAI: a file is deleted on its own
        self.deleted_stores.append(store.id)
        self.fake.changes.changed()
        return web.json_response({"id": store.id, "object": "vector_store.deleted", "deleted": True})

    async def _add_store_file(self, request: web.Request) -> web.Response:
        key = await self._gate(request)
        store = self._store(request, key)
        file_id = (await request.json()).get("file_id")
        stored = self.files.get(file_id)
        if stored is None or stored.api_key != key:
            return _error(404, f"No file found with id '{file_id}'.", param="file_id")
        entry = StoreFile(stored, store.id, int(time.time()), self.processing_polls,
                          self._failures.get(stored.filename))
        store.files[file_id] = entry
        self.fake.changes.changed()
        return web.json_response(entry.as_object())

    async def _list_store_files(self, request: web.Request) -> web.Response:
        key = await self._gate(request)
        store = self._store(request, key)
        data = [f.as_object() for f in store.files.values()]
        return web.json_response({"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                                  "last_id": data[-1]["id"] if data else None, "has_more": False})

    def _store_file(self, request: web.Request, key: str) -> StoreFile:
        store = self._store(request, key)
        file_id = request.match_info["file_id"]
        entry = store.files.get(file_id)
        if entry is None:
            raise _Refused(_error(404, f"No file found with id '{file_id}' in vector store '{store.id}'."))
        return entry

    async def _get_store_file(self, request: web.Request) -> web.Response:
        key = await self._gate(request)
        entry = self._store_file(request, key)
        entry.advance()
        self.fake.changes.changed()
        return web.json_response(entry.as_object())

    async def _delete_store_file(self, request: web.Request) -> web.Response:
        key = await self._gate(request)
        entry = self._store_file(request, key)
        del self.stores[entry.vector_store_id].files[entry.file.id]
        self.fake.changes.changed()
        return web.json_response({"id": entry.file.id, "object": "vector_store.file.deleted", "deleted": True})
