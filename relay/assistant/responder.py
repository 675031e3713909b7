"""One turn with OpenAI: transcribe a voice note, start a conversation, get a reply.

Uses the Responses API with a Conversation per chat; never the Assistants API.
Transient failures are retried here with bounded backoff; quota and key errors are not.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openai

from relay.assistant.errors import AssistantError, ConversationGone, classify, is_transient
from relay.assistant.responses_api import ResponsesApi
from relay.assistant.tools import (
    Answer,
    call_output,
    clean_reply,
    function_calls,
    handoff_call,
    output_text,
    reply_items,
)
from relay.usage.model import TokenUsage

log = logging.getLogger("relay.assistant")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently transient errors are retried."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, exc: Exception) -> float:
        hinted = _retry_after(exc)
        if hinted is not None:
            return min(hinted, self.max_delay)
        return min(self.base_delay * 2**attempt, self.max_delay)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        if headers.get("retry-after"):
            return float(headers["retry-after"])
    except ValueError:
        return None
    return None


@dataclass(frozen=True, slots=True)
class TurnInput:
    """What the customer said in one turn: text plus any images (bytes with their mime)."""

    text: str
    images: list[tuple[str, bytes]] = field(default_factory=list)

    def content(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for mime, data in self.images:
            url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
            # `detail` is required (OpenAPI InputImageContent.required = [type, detail]).
            parts.append({"type": "input_image", "image_url": url, "detail": "auto"})
        if self.text:
            parts.append({"type": "input_text", "text": self.text})
        return parts


def safety_identifier(tenant: str, chat: str) -> str:
    """A stable, anonymous id of the end user for OpenAI's abuse detection."""
    return hashlib.sha256(f"{tenant}\n{chat}".encode()).hexdigest()[:32]


class Assistant:
    """The calls a turn makes to OpenAI, each retried only when that can help."""

    def __init__(self, transcription_model: str, responses: ResponsesApi, retry: RetryPolicy | None = None) -> None:
        self._transcription_model = transcription_model
        self._responses = responses
        self._retry = retry or RetryPolicy()

    async def transcribe(self, client: openai.AsyncOpenAI, audio: bytes) -> str:
        """The text of a voice note."""
        result = await self._call(lambda: client.audio.transcriptions.create(
            model=self._transcription_model, file=("voice.ogg", audio, "audio/ogg"),
        ))
        return (getattr(result, "text", None) or str(result)).strip()

    async def start_conversation(self, client: openai.AsyncOpenAI) -> str:
        """A new OpenAI conversation id."""
        conversation = await self._call(lambda: client.conversations.create())
        return conversation.id

    async def reply(
        self, client: openai.AsyncOpenAI, *, model: str, instructions: str, conversation: str,
        safety_id: str, turn: TurnInput,
    ) -> str:
        """The assistant's answer to one turn, appended to `conversation`."""
        answer = await self.respond(client, model=model, instructions=instructions, conversation=conversation,
                                    safety_id=safety_id, turn=turn)
        return answer.text

    async def respond(
        self, client: openai.AsyncOpenAI, *, model: str, instructions: str, conversation: str,
        safety_id: str, turn: TurnInput, tools: list[dict[str, Any]] | None = None,
    ) -> Answer:
        """The assistant's answer to one turn, appended to `conversation`, offering `tools`.
        Every function call it holds is answered in the conversation before this returns."""
        # Sent past the SDK (relay/assistant/responses_api.py: a third of the CPU). The body
        # is the CreateResponse of OpenAI's OpenAPI document: tests/test_openai_transport.py
        # pins it, and the fake OpenAI checks every request against that document.
        body: dict[str, Any] = {
            "model": model, "instructions": instructions, "conversation": conversation,
            "input": [{"role": "user", "content": turn.content()}], "safety_identifier": safety_id,
        }
        if tools:
            body["tools"] = tools
        response = await self._call(lambda: self._responses.create(client, body))
        calls = function_calls(response)
        if calls:
            await self._answer_calls(client, conversation, calls)
        # File search answers may carry citation markers; the customer never sees them.
        return Answer(clean_reply(output_text(response)).strip(), handoff_call(calls),
                      TokenUsage.of(response.get("usage")), conversation, reply_items(response))

    async def _answer_calls(self, client: openai.AsyncOpenAI, conversation: str, calls: list[dict[str, Any]]) -> None:
        """Add each call's function_call_output to the conversation: a conversation holding a
        call without its output is refused by every later request ("No tool output found")."""
        items = [call_output(call["call_id"], call.get("name", "")) for call in calls]
        try:
            await self._call(lambda: client.conversations.items.create(conversation, items=items))
        except AssistantError as exc:
            # Unusable from now on: the chat starts a new conversation, now and next time.
            raise ConversationGone(f"The tool output could not be stored ({exc.reason}).") from None

    async def take_back(self, client: openai.AsyncOpenAI, conversation: str, item_ids: tuple[str, ...]) -> None:
        """Delete these items from the conversation (a reply the customer never received), so
        that later turns do not believe it was said; an item already gone counts as done."""
        for item_id in item_ids:
            await self._call(lambda item_id=item_id: _delete_item(client, conversation, item_id))

    async def forget(self, client: openai.AsyncOpenAI, conversation: str) -> None:
        """Delete a conversation at OpenAI; one that is already gone counts as done."""
        try:
            await client.conversations.delete(conversation)
        except openai.NotFoundError:
            return
        except openai.OpenAIError as exc:
            raise classify(exc) from None

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await call()
            except openai.OpenAIError as exc:
                if not is_transient(exc) or attempt + 1 >= self._retry.attempts:
                    raise classify(exc) from None
                delay = self._retry.delay(attempt, exc)
                log.info("OpenAI call failed (%s); retry %d in %.2fs", type(exc).__name__, attempt + 1, delay)
                attempt += 1
                await asyncio.sleep(delay)


async def _delete_item(client: openai.AsyncOpenAI, conversation: str, item_id: str) -> None:
    try:
        await client.conversations.items.delete(item_id, conversation_id=conversation)
    except openai.NotFoundError:  # the item, or its whole conversation, is gone already
        return
