"""One turn of one chat: what the customer said, through OpenAI, back to WhatsApp."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import openai

from core.clock import Clock
from core.events import Alert, AlertKind
from core.metrics import Metrics
from relay.assistant import (
    Answer,
    Assistant,
    AssistantError,
    ConversationGone,
    KnowledgeMissing,
    OpenAIClients,
    TurnInput,
    file_search_tool,
    has_file_search,
)
from relay.assistant.responder import safety_identifier
from relay.bridges.errors import BridgeError
from relay.chats import Chat, ChatRepository
from relay.message_log import MessageLog, MessageStatus
from relay.outbox import turn_ref
from relay.pipeline.bridge_port import BridgeCommands
from relay.pipeline.budget import BudgetDesk
from relay.pipeline.handoff import HandoffDesk, handoff_tools
from relay.pipeline.health import KeyHealth
from relay.pipeline.hours import turn_instructions
from relay.pipeline.lanes import Incoming, Outcome
from relay.pipeline.replies import ReplySender
from relay.pipeline.splitting import split_reply
from relay.pipeline.tenant_cache import TenantCache
from relay.usage import UsageRecorder
from tenants.knowledge import Knowledge
from tenants.model import Tenant
from tenants.service import TenantService

log = logging.getLogger("relay.pipeline.turns")


class NothingToAnswer(Exception):
    """The turn holds no text or image (an empty transcription, say)."""


class TurnRunner:
    """Answers a turn (ChatLanes calls `run`); decides answered, held, failed or kept."""

    def __init__(
        self, *, cache: TenantCache, tenants: TenantService, chats: ChatRepository, messages: MessageLog,
        clients: OpenAIClients, assistant: Assistant, health: KeyHealth, sender: ReplySender,
        bridges: BridgeCommands, clock: Clock, metrics: Metrics, on_recovered: Callable[[str], None],
        handoff: HandoffDesk | None = None, usage: UsageRecorder | None = None, budget: BudgetDesk | None = None,
        knowledge: Knowledge | None = None, alert: Callable[[Alert], None] | None = None,
    ) -> None:
        self._cache = cache
        self._tenants = tenants
        self._chats = chats
        self._messages = messages
        self._clients = clients
        self._assistant = assistant
        self._health = health
        self._sender = sender
        self._bridges = bridges
        self._clock = clock
        self._metrics = metrics
        self._on_recovered = on_recovered
        self._handoff = handoff
        self._usage = usage
        self._budget = budget
        self._knowledge = knowledge
        self._alert = alert or (lambda _alert: None)

    async def run(self, slug: str, chat_id: str, items: list[Incoming]) -> Outcome:
        """Error boundary of one turn: an unexpected failure marks its messages failed."""
        try:
            return await self._run(slug, chat_id, items)
        except Exception:
            await self._messages.settle(slug, chat_id, [i.id for i in items], MessageStatus.FAILED, self._clock.now())
            raise

    async def _run(self, slug: str, chat_id: str, items: list[Incoming]) -> Outcome:
        tenant = await self._cache.get(slug)
        if tenant is None:
            await self._settle(slug, chat_id, items, MessageStatus.IGNORED)
            return Outcome.DONE
        # A message settled since it was queued (answered by a turn of an earlier recovery,
        # held, given up) is not answered again.
        pending = await self._messages.still_pending(slug, chat_id, [item.id for item in items])
        items = [item for item in items if item.id in pending]
        if not items:
            return Outcome.DONE
        chat = await self._chats.get(slug, chat_id)
        written = max((item.at for item in items if item.at is not None), default=self._clock.now())
        if tenant.suspended or await self.held(tenant, chat, written):
            await self._settle(slug, chat_id, items, MessageStatus.HELD)
            return Outcome.DONE
        budgeted = await self._budget.admit(tenant, chat_id) if self._budget else tenant
        if budgeted is None:  # the month's budget is spent: the assistant is not called
            await self._settle(slug, chat_id, items, MessageStatus.HELD)
            return Outcome.DONE
        tenant = budgeted  # past a `fallback` budget, with the cheaper model
        ids = [item.id for item in items]
        client = self._clients.get(slug, self._tenants.openai_key(tenant))
        await self._quietly(self._bridges.read(slug, chat_id, ids))
        await self._quietly(self._bridges.typing(slug, chat_id, True))
        try:
            answer = await self._answer(tenant, chat_id, chat, client, items)
        except NothingToAnswer:
            await self._quietly(self._bridges.typing(slug, chat_id, False))
            await self._settle(slug, chat_id, items, MessageStatus.IGNORED)
            return Outcome.DONE
        except AssistantError as error:
            await self._quietly(self._bridges.typing(slug, chat_id, False))
            return await self._failed(tenant, chat_id, ids, error)
        if await self._health.succeeded(tenant):
            self._on_recovered(slug)
        if await self._held_now(slug, chat_id):
            log.info("tenant %s: the chat was paused while the assistant answered; the reply is held", slug)
            await self._quietly(self._bridges.typing(slug, chat_id, False))
            await self._settle(slug, chat_id, items, MessageStatus.HELD)
            await self._take_back(slug, client, answer)
            return Outcome.DONE
        # No `paused` typing frame before a reply: the send itself ends "typing…" (docs/PROTOCOL.md).
        await self._deliver(slug, chat_id, ids, await self._reply_text(tenant, chat_id, ids, answer))
        return Outcome.DONE

    async def _reply_text(self, tenant: Tenant, chat_id: str, ids: list[str], answer: Answer) -> str:
        """The text for the customer; a handoff the model asked for is applied first."""
        if answer.handoff is None or self._handoff is None:
            return answer.text
        return await self._handoff.take(tenant, chat_id, ids, answer.handoff, answer.text)

    async def held(self, tenant: Tenant, chat: Chat | None, written: datetime) -> bool:
        """The chat is paused for a message written at `written`. A handoff whose owner had
        been silent for handoff_hours when the customer wrote is resumed, in the store only
        if it is still that handoff (a `pausar` landing meanwhile wins)."""
        if chat is None or not chat.paused:
            return False
        hours = tenant.settings.handoff_hours
        if not chat.handoff_expired(written, hours):
            return True
        if await self._chats.resume_expired_handoff(tenant.slug, chat.chat, written - timedelta(hours=hours)):
            return False
        fresh = await self._chats.get(tenant.slug, chat.chat)
        return fresh is not None and fresh.paused and not fresh.handoff_expired(written, hours)

    async def _held_now(self, slug: str, chat_id: str) -> bool:
        """Read again, just before anything is sent: the owner may have paused the chat,
        answered the customer personally or suspended the bot while OpenAI was thinking."""
        # The cache is fresh enough: the owner's `suspender bot` updates it at once, and the
        # operator's changes (TenantUpdated) reach it through this tenant's inbox.
        tenant = await self._cache.get(slug)
        if tenant is None or tenant.suspended:
            return True
        chat = await self._chats.get(slug, chat_id)
        return chat is not None and chat.paused and not chat.handoff_expired(
            self._clock.now(), tenant.settings.handoff_hours)

    async def _take_back(self, slug: str, client: openai.AsyncOpenAI, answer: Answer) -> None:
        """Take the held reply out of the OpenAI conversation: otherwise, once the bot resumes,
        the model believes the customer read it. The customer's words and any function call
        with its output stay (tools.reply_items). Best effort: a failure is one log line."""
        if answer.conversation is None or not answer.reply_ids:
            return
        try:
            await self._assistant.take_back(client, answer.conversation, answer.reply_ids)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the held turn stays held
            reason = exc.reason if isinstance(exc, AssistantError) else type(exc).__name__
            log.warning("tenant %s: the held reply stays in its OpenAI conversation (%s)", slug, reason)

    async def _settle(self, slug: str, chat_id: str, items: list[Incoming], status: MessageStatus) -> None:
        await self._messages.settle(slug, chat_id, [item.id for item in items], status, self._clock.now())

    async def _answer(
        self, tenant: Tenant, chat_id: str, chat: Chat | None, client: openai.AsyncOpenAI, items: list[Incoming]
    ) -> Answer:
        turn = await self._turn_input(client, items)
        if not turn.text and not turn.images:
            raise NothingToAnswer()
        conversation = chat.conversation_id if chat else None
        tools = await self._tools(tenant)
        conversation_retried = knowledge_retried = False
        while True:
            if conversation is None:
                conversation = await self._assistant.start_conversation(client)
                conversation = await self._chats.set_conversation(tenant.slug, chat_id, conversation)
            started = time.perf_counter()
            try:
                answer = await self._assistant.respond(
                    client, model=tenant.model, instructions=turn_instructions(tenant, self._clock.now()),
                    conversation=conversation,
                    safety_id=safety_identifier(tenant.slug, chat_id), turn=turn, tools=tools,
                )
            except ConversationGone:
                if conversation_retried:
                    raise
                conversation_retried = True
                await self._chats.forget_conversation(tenant.slug, chat_id, conversation)
                conversation = None
                continue
            except KnowledgeMissing:
                if knowledge_retried or not has_file_search(tools):
                    raise
                knowledge_retried = True
                tools = await self._tools_without_missing_stores(tenant, tools)
                continue
            self._metrics.openai_latency.observe(time.perf_counter() - started)
            if self._usage:
                await self._usage.response(tenant.slug, tenant.model, answer.usage)
            return answer

    async def _tools(self, tenant: Tenant) -> list[dict] | None:
        """The handoff function (when on) and file search over the tenant's knowledge (once a
        file is ready or a store is attached; the ids come from the knowledge's memory cache)."""
        tools = list((handoff_tools(tenant) or []) if self._handoff else [])
        if self._knowledge is not None:
            ids = await self._knowledge.vector_store_ids(tenant.slug)
            if ids:
                tools.append(file_search_tool(ids))
        return tools or None

    async def _tools_without_missing_stores(self, tenant: Tenant, tools: list[dict] | None) -> list[dict] | None:
        """OpenAI refused the file_search stores: find which are gone (404), mark them so they
        are never sent again, tell the operators once, and answer with what is left."""
        gone: list[str] = []
        try:
            gone = await self._knowledge.check_stores(tenant.slug) if self._knowledge else []
        except Exception as exc:  # the check itself failed: this turn answers without knowledge
            log.warning("tenant %s: could not check its vector stores (%s)", tenant.slug, type(exc).__name__)
        for store in gone:
            log.warning("tenant %s: vector store %s was deleted at OpenAI; answering without it", tenant.slug, store)
            self._alert(Alert(tenant.slug, AlertKind.KNOWLEDGE_GONE, {"vector_store": store}))
        if gone:
            return await self._tools(tenant)
        log.warning("tenant %s: OpenAI refused its vector stores; this turn answers without file search", tenant.slug)
        return [tool for tool in tools or [] if tool.get("type") != "file_search"] or None

    async def _turn_input(self, client: openai.AsyncOpenAI, items: list[Incoming]) -> TurnInput:
        lines: list[str] = []
        images: list[tuple[str, bytes]] = []
        for item in items:
            if item.kind == "audio" and item.media_base64:
                lines.append(await self._assistant.transcribe(client, base64.b64decode(item.media_base64)))
                if self._usage:
                    await self._usage.voice_note(item.tenant, item.media_seconds)
                continue
            if item.kind == "image" and item.media_base64:
                images.append((item.media_mime or "image/jpeg", base64.b64decode(item.media_base64)))
            if item.text and item.text.strip():
                lines.append(item.text.strip())
        return TurnInput(text="\n".join(line for line in lines if line), images=images)

    async def _deliver(self, slug: str, chat_id: str, ids: list[str], answer: str) -> None:
        now = self._clock.now()
        parts = [(turn_ref(slug, ids, n), text) for n, text in enumerate(split_reply(answer))]
        reply = self._sender.prepare(slug, chat_id, parts)
        # One write queues the reply and marks the turn answered: a crash before it leaves a
        # pending turn (answered again under the same refs), after it a queued reply.
        await self._messages.settle(slug, chat_id, ids, MessageStatus.ANSWERED, now,
                                    reply=[item.entry(now) for item in reply])
        await self._sender.deliver(reply)

    async def _failed(self, tenant: Tenant, chat_id: str, ids: list[str], error: AssistantError) -> Outcome:
        keep = await self._health.failed(tenant, error)
        now = self._clock.now()
        if await self._held_now(tenant.slug, chat_id):  # the owner took over: no fallback either
            await self._messages.settle(tenant.slug, chat_id, ids, MessageStatus.HELD, now)
            return Outcome.DONE
        if await self._chats.claim_once_per_hour(tenant.slug, chat_id, "fallback_at", now):
            await self._sender.notice(tenant.slug, chat_id, tenant.settings.fallback_text)
        if keep:
            log.info("tenant %s: turn of %d message(s) kept until OpenAI works again", tenant.slug, len(ids))
            return Outcome.KEEP
        await self._messages.settle(tenant.slug, chat_id, ids, MessageStatus.FAILED, now)
        return Outcome.DONE

    @staticmethod
    async def _quietly(command) -> None:
        """Typing and read receipts are niceties: a missing bridge must not fail the turn."""
        try:
            await command
        except BridgeError:
            pass
