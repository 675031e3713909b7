"""A fake OpenAI REST API (Conversations, Responses, transcriptions, models; files and vector
stores in tests/fakes/openai_files.py, as `fake.files`) on loopback.

A reply function may return a `FunctionCall` instead of text: the response then holds a
`function_call` output item (and a message when the call carries text), as OpenAI's does.
Like OpenAI, a conversation holding a call without its `function_call_output` refuses
every later response (400 "No tool output found for function call ..."); outputs come in a
response's input or through POST /v1/conversations/{id}/items; DELETE
/v1/conversations/{id}/items/{item_id} takes an item out of the history the next request sees.

Point the real SDK at it: ``openai.AsyncOpenAI(base_url=f"{fake.url}/v1", api_key="sk-test-1")``.
The SDK retries 408/409/429/5xx by itself (``max_retries``, default 2); every HTTP attempt
reaches the fake and consumes injected failures, so tests that count attempts should build
the client with ``max_retries=0`` or account for the retries.
"""

from __future__ import annotations

import inspect
import json
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ._loopback import LoopbackServer
from .openai_files import OpenAIFiles
from .openai_spec import request_schemas

FAILURE_KINDS = ("500", "timeout", "429_quota", "429_rate", "401")
ENDPOINTS = ("responses", "transcriptions", "conversations")


@dataclass
class ResponseRequest:
    """One accepted POST /v1/responses, as the fake received it."""

    api_key: str
    body: dict[str, Any]
    history: list[dict[str, Any]]  # the conversation's items before this request
    reply: str = ""
    response_id: str = ""
    function_call: FunctionCall | None = None

    @property
    def model(self) -> str | None:
        return self.body.get("model")

    @property
    def instructions(self) -> str | None:
        return self.body.get("instructions")

    @property
    def input(self) -> Any:
        return self.body.get("input")

    @property
    def conversation(self) -> str | None:
        conv = self.body.get("conversation")
        return conv.get("id") if isinstance(conv, dict) else conv

    @property
    def tools(self) -> list[dict[str, Any]]:
        return self.body.get("tools") or []

    @property
    def safety_identifier(self) -> str | None:
        return self.body.get("safety_identifier")

    @property
    def user_text(self) -> str:
        """The last user input as text, images rendered as ``[imagen]``."""
        return last_user_text(self.input)


@dataclass
class TranscriptionRequest:
    """One accepted POST /v1/audio/transcriptions."""

    api_key: str
    filename: str | None
    content_type: str | None
    data: bytes
    model: str | None
    fields: dict[str, str] = field(default_factory=dict)  # language, prompt, response_format...


@dataclass(frozen=True)
class FunctionCall:
    """What a reply function returns to make the model call a function (with `text`, a
    message item follows the call in the output)."""

    name: str
    arguments: dict[str, Any]
    text: str = ""
    call_id: str = field(default_factory=lambda: "call_" + secrets.token_hex(12))


ReplyFn = Callable[[ResponseRequest], "str | FunctionCall | Awaitable[str | FunctionCall]"]
TranscribeFn = Callable[[TranscriptionRequest], str | Awaitable[str]]


def last_user_text(input_value: Any) -> str:
    """Text of the last user item of a Responses ``input`` (string or item list)."""
    if isinstance(input_value, str):
        return input_value
    for item in reversed(input_value or []):
        if isinstance(item, dict) and item.get("role", "user") == "user":
            return _content_text(item.get("content"))
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in content or []:
        if part.get("type") == "input_text":
            parts.append(part.get("text", ""))
        elif part.get("type") == "input_image":
            parts.append("[imagen]")
        elif part.get("type") == "input_file":
            parts.append("[archivo]")
    return " ".join(p for p in parts if p)


def default_reply(request: ResponseRequest) -> str:
    """``Respuesta a: <last user text>``."""
    return "Respuesta a: " + request.user_text


def default_transcription(request: TranscriptionRequest) -> str:
    """``transcripción de <filename>``."""
    return f"transcripción de {request.filename}"


def _error(status: int, message: str, type_: str, code: str | None, param: str | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=headers)


class FakeOpenAI(LoopbackServer):
    """Fake OpenAI API server; see the module docstring for how to connect the SDK."""

    def __init__(
        self,
        *,
        valid_keys: Iterable[str] | None = None,
        reply: ReplyFn = default_reply,
        transcribe: TranscribeFn = default_transcription,
        latency: float = 0.0,
        hang_seconds: float = 30.0,
        failure_rate: float = 0.0,
        failure_kinds: Iterable[str] = ("500",),
        seed: int = 0,
        rate_retry_after_ms: int = 20,
    ) -> None:
        super().__init__()
        self.valid_keys = set(valid_keys) if valid_keys is not None else None
        self.reply = reply
        self.transcribe = transcribe
        self.latency = latency
        self.hang_seconds = hang_seconds
        self.failure_rate = failure_rate
        self.failure_kinds = tuple(failure_kinds)
        self.random = random.Random(seed)
        self.rate_retry_after_ms = rate_retry_after_ms
        # (input, cached input, output) tokens every response reports; None: about 4 characters a token.
        self.usage_tokens: tuple[int, int, int] | None = None
        # A reasoning model: each response's output starts with a `reasoning` item (openai
        # types/responses/response_reasoning_item.py), which OpenAI refuses later without the
        # item it led to.
        self.reasoning = False
        self.models = ["gpt-4.1-mini", "gpt-4o-mini", "gpt-4o-mini-transcribe", "whisper-1"]
        self.conversations: dict[str, list[dict[str, Any]]] = {}
        self.deleted_conversations: set[str] = set()
        self.response_requests: list[ResponseRequest] = []
        self.transcription_requests: list[TranscriptionRequest] = []
        self.failures: list[tuple[str, str]] = []  # (endpoint, kind) actually injected
        self.requests: list[tuple[str, str]] = []  # (method, path) of every HTTP request
        # JSON bodies OpenAI's published schema refuses: answered 400 as OpenAI would, and
        # stopping the fake raises unless a test expects them (`expect_invalid`).
        self.invalid_requests: list[tuple[str, str, str]] = []  # (method, path, what is wrong)
        self.expect_invalid = False
        self.app.middlewares.append(self._check_schema)
        self._fail_queue: dict[str, list[str]] = {e: [] for e in ENDPOINTS}
        self._exhausted: set[str] = set()
        self.conversations_created = 0
        self.conversations_deleted = 0
        self.app.router.add_post("/v1/conversations", self._create_conversation)
        self.app.router.add_get("/v1/conversations/{id}", self._get_conversation)
        self.app.router.add_delete("/v1/conversations/{id}", self._delete_conversation)
        self.app.router.add_post("/v1/conversations/{id}/items", self._add_items)
        self.app.router.add_delete("/v1/conversations/{id}/items/{item_id}", self._delete_item)
        self.app.router.add_post("/v1/responses", self._create_response)
        self.app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        self.app.router.add_get("/v1/models", self._list_models)
        self.files = OpenAIFiles(self)  # files, vector stores, and file_search in responses

    @web.middleware
    async def _check_schema(self, request: web.Request, handler) -> web.StreamResponse:
        """Refuse a JSON body that does not follow OpenAI's OpenAPI document (tests/fakes/openai_spec.py)."""
        if request.content_type == "application/json" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "We could not parse the JSON body of your request.", "invalid_request_error", None)
            problem = request_schemas().problem(request.method, request.path, body)
            if problem is not None:
                self.invalid_requests.append((request.method, request.path, problem))
                self.changes.changed()
                return _error(400, f"Invalid request body: {problem}", "invalid_request_error", "invalid_value")
        return await handler(request)

    async def stop(self) -> None:
        """Stop serving; then fail the test that sent a request OpenAI's schema refuses."""
        await super().stop()
        if self.invalid_requests and not self.expect_invalid:
            raise AssertionError(f"requests OpenAI's schema refuses: {self.invalid_requests}")

    # -- knobs ---------------------------------------------------------------

    def fail_next(self, kind: str, n: int = 1, *, endpoint: str = "responses") -> None:
        """Make the next `n` requests to `endpoint` fail with `kind` (see FAILURE_KINDS)."""
        if kind not in FAILURE_KINDS or endpoint not in ENDPOINTS:
            raise ValueError(f"unknown failure {kind!r} for {endpoint!r}")
        self._fail_queue[endpoint].extend([kind] * n)

    def set_quota_exhausted(self, api_key: str, exhausted: bool = True) -> None:
        """Answer this key's responses and transcriptions with 429 insufficient_quota."""
        (self._exhausted.add if exhausted else self._exhausted.discard)(api_key)

    # -- counters ------------------------------------------------------------

    @property
    def responses_created(self) -> int:
        return len(self.response_requests)

    @property
    def transcriptions(self) -> int:
        return len(self.transcription_requests)

    @property
    def last_request(self) -> ResponseRequest:
        """The most recent accepted /v1/responses request."""
        return self.response_requests[-1]

    async def wait_for_responses(self, count: int = 1, timeout: float = 5.0) -> list[ResponseRequest]:
        """Wait until at least `count` responses were created; return them all."""
        return await self.changes.wait_until(
            lambda: self.response_requests if self.responses_created >= count else None,
            timeout, lambda: f"{count} responses (have {self.responses_created})")

    # -- gatekeeping ---------------------------------------------------------

    def _key(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        valid = key in self.valid_keys if self.valid_keys is not None else key.startswith("sk-test")
        return key if valid else None

    def _invalid_key(self) -> web.Response:
        return _error(401, "Incorrect API key provided. You can find your API key at "
                      "https://platform.openai.com/account/api-keys.",
                      "invalid_request_error", "invalid_api_key")

    def _next_failure(self, endpoint: str) -> str | None:
        if self._fail_queue[endpoint]:
            return self._fail_queue[endpoint].pop(0)
        if endpoint == "responses" and self.failure_rate and self.random.random() < self.failure_rate:
            return self.random.choice(self.failure_kinds)
        return None

    async def _gate(self, request: web.Request, endpoint: str, billable: bool) -> tuple[str | None, web.Response | None]:
        """Authenticate and apply injected failures; return (key, error_response)."""
        self.requests.append((request.method, request.path))
        key = self._key(request)
        if key is None:
            return None, self._invalid_key()
        kind = self._next_failure(endpoint)
        if kind is None and billable and key in self._exhausted:
            kind = "429_quota"
        if kind is None:
            return key, None
        self.failures.append((endpoint, kind))
        self.changes.changed()
        return key, await self._failure_response(kind)

    async def _failure_response(self, kind: str) -> web.Response | None:
        if kind == "timeout":
            await self.pause(self.hang_seconds)
            return None  # then answer normally, far too late for the client
        if kind == "401":
            return self._invalid_key()
        if kind == "429_quota":
            return _error(429, "You exceeded your current quota, please check your plan and "
                          "billing details.", "insufficient_quota", "insufficient_quota")
        if kind == "429_rate":
            ms = self.rate_retry_after_ms
            return _error(429, "Rate limit reached for requests. Please try again shortly.",
                          "requests", "rate_limit_exceeded",
                          headers={"retry-after-ms": str(ms), "retry-after": str(max(1, ms // 1000))})
        return _error(500, "The server had an error while processing your request.",
                      "server_error", None)

    # -- conversations -------------------------------------------------------

    async def _create_conversation(self, request: web.Request) -> web.Response:
        key, failure = await self._gate(request, "conversations", billable=False)
        if failure is not None:
            return failure
        body = await request.json() if request.can_read_body else {}
        conv_id = "conv_" + secrets.token_hex(24)
        self.conversations[conv_id] = [dict(item) for item in body.get("items") or []]
        self.conversations_created += 1
        self.changes.changed()
        return web.json_response({"id": conv_id, "object": "conversation",
                                  "created_at": int(time.time()),
                                  "metadata": body.get("metadata") or {}})

    def _unknown_conversation(self, conv_id: str) -> web.Response:
        return _error(404, f"Conversation with id '{conv_id}' not found.",
                      "invalid_request_error", None, "conversation")

    async def _get_conversation(self, request: web.Request) -> web.Response:
        if self._key(request) is None:
            return self._invalid_key()
        conv_id = request.match_info["id"]
        if conv_id not in self.conversations:
            return self._unknown_conversation(conv_id)
        return web.json_response({"id": conv_id, "object": "conversation",
                                  "created_at": int(time.time()), "metadata": {}})

    async def _delete_conversation(self, request: web.Request) -> web.Response:
        key, failure = await self._gate(request, "conversations", billable=False)
        if failure is not None:
            return failure
        conv_id = request.match_info["id"]
        if self.conversations.pop(conv_id, None) is None:
            return self._unknown_conversation(conv_id)
        self.deleted_conversations.add(conv_id)
        self.conversations_deleted += 1
        self.changes.changed()
        return web.json_response({"id": conv_id, "object": "conversation.deleted", "deleted": True})

    async def _add_items(self, request: web.Request) -> web.Response:
        """POST /v1/conversations/{id}/items (the SDK's conversations.items.create)."""
        key, failure = await self._gate(request, "conversations", billable=False)
        if failure is not None:
            return failure
        conv_id = request.match_info["id"]
        if conv_id not in self.conversations:
            return self._unknown_conversation(conv_id)
        items = [dict(item) for item in (await request.json()).get("items") or []]
        if not items or len(items) > 20:
            return _error(400, "Provide between 1 and 20 items.", "invalid_request_error", None, "items")
        problem = _orphan_outputs(self.conversations[conv_id], items)
        if problem:
            return problem
        for item in items:
            item.setdefault("id", ("fco_" if item.get("type") == "function_call_output" else "msg_")
                            + secrets.token_hex(24))
        self.conversations[conv_id].extend(items)
        self.changes.changed()
        return web.json_response({"object": "list", "data": items, "first_id": items[0]["id"],
                                  "last_id": items[-1]["id"], "has_more": False})

    async def _delete_item(self, request: web.Request) -> web.Response:
        """DELETE /v1/conversations/{id}/items/{item_id} (the SDK's conversations.items.delete):
        the item leaves the conversation's history; the answer is the Conversation object
        (OpenAPI deleteConversationItem: 200 ConversationResource), 404 for an unknown item
        (the spec lists no 404 body; worded like the unknown conversation's)."""
        _, failure = await self._gate(request, "conversations", billable=False)
        if failure is not None:
            return failure
        conv_id, item_id = request.match_info["id"], request.match_info["item_id"]
        if conv_id not in self.conversations:
            return self._unknown_conversation(conv_id)
        history = self.conversations[conv_id]
        kept = [item for item in history if item.get("id") != item_id]
        if len(kept) == len(history):
            return _error(404, f"Item with id '{item_id}' not found.", "invalid_request_error", None, "item_id")
        self.conversations[conv_id] = kept
        self.changes.changed()
        return web.json_response({"id": conv_id, "object": "conversation",
                                  "created_at": int(time.time()), "metadata": {}})

    # -- responses -----------------------------------------------------------

    async def _create_response(self, request: web.Request) -> web.Response:
        key, failure = await self._gate(request, "responses", billable=True)
        if failure is not None:
            return failure
        body = await request.json()
        recorded = ResponseRequest(api_key=key, body=body, history=[])
        if recorded.conversation is not None:
            if recorded.conversation not in self.conversations:
                return self._unknown_conversation(recorded.conversation)
            recorded.history = list(self.conversations[recorded.conversation])
        problem = _invalid_tools(recorded.tools) or _orphan_outputs(recorded.history, _input_items(recorded.input)) \
            or _unanswered_calls(recorded.history + _input_items(recorded.input)) \
            or _reasoning_left_alone(recorded.history + _input_items(recorded.input))
        if problem:
            return problem
        missing = self.files.unknown_stores(recorded)
        if missing:
            return _error(404, f"Vector store with id '{missing[0]}' not found.", "invalid_request_error",
                          None, "tools")
        if self.latency and not await self.pause(self.latency):
            return _error(500, "server stopping", "server_error", None)
        reply = self.reply(recorded)
        reply = await reply if inspect.isawaitable(reply) else reply
        if isinstance(reply, FunctionCall):
            recorded.function_call, reply = reply, reply.text
        recorded.reply = reply
        payload = self._response_object(recorded)
        recorded.response_id = payload["id"]
        if recorded.conversation is not None:
            self.conversations[recorded.conversation].extend(
                _input_items(recorded.input) + payload["output"])
        self.response_requests.append(recorded)
        self.changes.changed()
        return web.json_response(payload)

    def _response_object(self, req: ResponseRequest) -> dict[str, Any]:
        now = int(time.time())
        tokens_in, cached, tokens_out = self.usage_tokens or (
            max(1, len(req.user_text) // 4), 0, max(1, len(req.reply) // 4))
        message = {"id": "msg_" + secrets.token_hex(24), "type": "message", "status": "completed",
                   "role": "assistant",
                   "content": [{"type": "output_text", "text": req.reply, "annotations": [],
                                "logprobs": []}]}
        output = [message]
        searched = self.files.search(req)
        if searched is not None:  # a file_search_call item first, the message citing what it found
            call, found = searched
            message["content"][0]["annotations"] = self.files.citations(req.reply, found)
            output = [call, message]
        if req.function_call is not None:
            call = req.function_call
            output = [{"type": "function_call", "call_id": call.call_id, "name": call.name,
                       "arguments": json.dumps(call.arguments), "id": "fc_" + secrets.token_hex(24),
                       "status": "completed"}] + ([message] if req.reply else [])
        if self.reasoning:
            output = [{"id": "rs_" + secrets.token_hex(24), "type": "reasoning", "summary": []}] + output
        return {
            "id": "resp_" + secrets.token_hex(24), "object": "response", "created_at": now,
            "completed_at": now, "status": "completed", "background": False, "error": None,
            "incomplete_details": None, "instructions": req.instructions,
            "max_output_tokens": req.body.get("max_output_tokens"), "model": req.model,
            "output": output, "parallel_tool_calls": True, "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None}, "service_tier": "default",
            "store": req.body.get("store", True), "temperature": 1.0,
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto", "tools": req.tools, "top_p": 1.0, "truncation": "disabled",
            # openai.types.responses.ResponseUsage
            "usage": {"input_tokens": tokens_in,
                      "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
                      "output_tokens": tokens_out,
                      "output_tokens_details": {"reasoning_tokens": 0},
                      "total_tokens": tokens_in + tokens_out},
            "user": None, "metadata": req.body.get("metadata") or {},
            "safety_identifier": req.safety_identifier,
            "conversation": {"id": req.conversation} if req.conversation else None,
        }

    # -- audio and models ----------------------------------------------------

    async def _transcribe(self, request: web.Request) -> web.Response:
        key, failure = await self._gate(request, "transcriptions", billable=True)
        if failure is not None:
            return failure
        recorded = TranscriptionRequest(key, None, None, b"", None)
        async for part in (await request.multipart()):
            if part.name == "file":
                recorded.filename = part.filename
                recorded.content_type = part.headers.get("Content-Type")
                recorded.data = bytes(await part.read())
            else:
                recorded.fields[part.name] = await part.text()
        recorded.model = recorded.fields.get("model")
        if not recorded.data:
            return _error(400, "Missing file.", "invalid_request_error", None, "file")
        text = self.transcribe(recorded)
        text = await text if inspect.isawaitable(text) else text
        self.transcription_requests.append(recorded)
        self.changes.changed()
        if recorded.fields.get("response_format") == "text":
            return web.Response(text=text)
        return web.json_response({"text": text, "usage": {"type": "duration", "seconds": 1}})

    async def _list_models(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        if self._key(request) is None:
            return self._invalid_key()
        data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "openai"}
                for m in self.models]
        return web.json_response({"object": "list", "data": data})


def _input_items(input_value: Any) -> list[dict[str, Any]]:
    if isinstance(input_value, str):
        return [{"type": "message", "role": "user",
                 "content": [{"type": "input_text", "text": input_value}]}]
    return [dict(item) for item in input_value or []]


def _invalid_tools(tools: list[dict[str, Any]]) -> web.Response | None:
    """OpenAI's checks of function tools: the fields FunctionToolParam requires, and a
    strict schema's rules (every property required, no additional properties)."""
    for n, tool in enumerate(tools):
        if tool.get("type") != "function":
            continue
        missing = [f for f in ("name", "parameters", "strict") if f not in tool]
        schema = tool.get("parameters") or {}
        if missing or not isinstance(tool.get("name"), str) or schema.get("type") != "object":
            return _error(400, f"Invalid tools[{n}]: missing or bad {missing or ['parameters']}.",
                          "invalid_request_error", None, f"tools[{n}]")
        if tool["strict"] and (schema.get("additionalProperties") is not False
                               or set(schema.get("required") or []) != set(schema.get("properties") or {})):
            return _error(400, f"Invalid schema for function '{tool['name']}': strict mode requires "
                          "additionalProperties false and every property required.",
                          "invalid_request_error", "invalid_function_parameters", f"tools[{n}].parameters")
    return None


def _unanswered_calls(items: list[dict[str, Any]]) -> web.Response | None:
    answered = {i.get("call_id") for i in items if i.get("type") == "function_call_output"}
    for item in items:
        if item.get("type") == "function_call" and item.get("call_id") not in answered:
            return _error(400, f"No tool output found for function call {item.get('call_id')}.",
                          "invalid_request_error", None, "input")
    return None


def _reasoning_left_alone(items: list[dict[str, Any]]) -> web.Response | None:
    """OpenAI's 400 for a reasoning item not followed by the output item it led to (a message
    or a call of the model's), e.g. once that message was deleted from the conversation."""
    for n, item in enumerate(items):
        if item.get("type") != "reasoning":
            continue
        following = next((i for i in items[n + 1:] if i.get("type") != "reasoning"), None)
        if following is None or following.get("role", "assistant") != "assistant" \
                or following.get("type", "message") == "function_call_output":
            return _error(400, f"Item '{item.get('id')}' of type 'reasoning' was provided without its "
                          "required following item.", "invalid_request_error", None, "input")
    return None


def _orphan_outputs(history: list[dict[str, Any]], items: list[dict[str, Any]]) -> web.Response | None:
    calls = {i.get("call_id") for i in history + items if i.get("type") == "function_call"}
    for item in items:
        if item.get("type") == "function_call_output" and item.get("call_id") not in calls:
            return _error(400, f"No tool call found for function call output with call_id {item.get('call_id')}.",
                          "invalid_request_error", None, "input")
    return None
