"""The pipeline: every WhatsApp message a bridge reports, from record and ack to the reply.

Inbound, per message: record it once (dedupe by id), ack it, drop what the bot must not
answer, hand owner messages to the OwnerDesk, hold messages of paused chats and
suspended tenants, and queue the rest in the chat's lane (debounce, one turn at a time).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from core.bus import EventBus
from core.clock import Clock
from core.events import (
    BridgeConnected,
    TenantDeleted,
    TenantKeyChanged,
    TenantUpdated,
    WhatsAppStateChanged,
)
from core.metrics import Metrics
from core.settings import Settings
from relay.assistant import Assistant, OpenAIClients, RetryPolicy
from relay.bridges.errors import BridgeError
from relay.bridges.events import MessageReceived
from relay.chats import ChatRepository
from relay.message_log import MessageLog, MessageStatus
from relay.outbox import Outbox
from relay.pipeline.bridge_port import BridgeCommands, StateSource
from relay.pipeline.health import KeyHealth
from relay.pipeline.lanes import ChatLanes, Incoming
from relay.pipeline.owner import OwnerDesk
from relay.pipeline.replies import ReplySender
from relay.pipeline.tenant_cache import TenantCache
from relay.pipeline.turns import TurnRunner
from relay.protocol import Message
from relay.stats import OpenAIErrorLog
from tenants.model import Tenant
from tenants.service import TenantService

log = logging.getLogger("relay.pipeline")

HANDLED_KINDS = {"text", "audio", "image"}


def is_status_like(chat: str) -> bool:
    """Status broadcasts and channels: never answered."""
    return chat.endswith(("@broadcast", "@newsletter"))


def answerable(message: Message) -> bool:
    """A kind the bot handles, with the content it needs."""
    if message.kind == "text":
        return bool(message.text and message.text.strip())
    if message.kind == "audio":
        return message.media is not None
    if message.kind == "image":
        return message.media is not None or bool(message.text and message.text.strip())
    return False


class Pipeline:
    """Answers the customers of every tenant; start() subscribes to the bus."""

    def __init__(
        self, db: AsyncDatabase, bus: EventBus, tenants: TenantService, bridges: BridgeCommands,
        states: StateSource | None, settings: Settings, clock: Clock, metrics: Metrics, *,
        clients: OpenAIClients | None = None, retry: RetryPolicy | None = None,
        max_per_tenant: int = 8, max_total: int = 64, stop_grace: float = 5.0,
    ) -> None:
        self._stop_grace = stop_grace
        self._bus = bus
        self._tenants = tenants
        self._bridges = bridges
        self._clock = clock
        self._metrics = metrics
        self.chats = ChatRepository(db)
        self.messages = MessageLog(db)
        self.outbox = Outbox(db)
        self.openai_errors = OpenAIErrorLog(db)
        self.clients = clients or OpenAIClients(settings.openai_base_url)
        self.cache = TenantCache(tenants)
        self.health = KeyHealth(tenants, bus.publish, self.openai_errors, clock, metrics)
        self.sender = ReplySender(self.outbox, bridges, clock, metrics)
        self.owner = OwnerDesk(
            chats=self.chats, tenants=tenants, cache=self.cache, sender=self.sender, bridges=bridges,
            states=states, clock=clock,
        )
        self.turns = TurnRunner(
            cache=self.cache, tenants=tenants, chats=self.chats, messages=self.messages, clients=self.clients,
            assistant=Assistant(settings.openai_transcription_model, retry), health=self.health,
            sender=self.sender, bridges=bridges, clock=clock, metrics=metrics, on_recovered=self._recovered,
        )
        self.lanes = ChatLanes(self.turns.run, per_tenant=max_per_tenant, total=max_total)
        self._subscribed = False
        self._boot_order = 0

    @property
    def repositories(self) -> list:
        """Every collection this pipeline writes, for index creation at start-up."""
        return [self.chats, self.messages, self.openai_errors]

    async def start(self) -> None:
        # Messages recorded before this moment belong to an earlier run: resume_pending answers
        # them; later ones are in this run's lanes already.
        self._boot_order = time.time_ns()
        for repo in self.repositories:
            await repo.ensure_indexes()
        if not self._subscribed:
            self._bus.subscribe("pipeline", self.handle_message, MessageReceived)
            self._bus.subscribe(
                "pipeline-control", self.handle_control, BridgeConnected, WhatsAppStateChanged, TenantUpdated,
                TenantKeyChanged, TenantDeleted,
            )
            self._subscribed = True

    async def stop(self) -> None:
        await self.lanes.stop(self._stop_grace)
        await self.clients.close()

    # --- inbound -----------------------------------------------------------------

    async def handle_message(self, event: MessageReceived) -> None:
        """Error boundary for one MessageReceived: never lets one message stop the others."""
        try:
            await self._receive(event.tenant, event.message)
        except Exception:
            self._metrics.errors.labels("pipeline").inc()
            log.exception("tenant %s: message %s could not be handled", event.tenant, event.message.id)

    async def _receive(self, slug: str, message: Message) -> None:
        if message.sent_by_bridge and message.from_me:
            # The echo of our own send: never acted on, repeated or not, and not counted in
            # stats (inbound only), so it is acked without a record. That halves the writes
            # to the largest collection (see bench/README.md).
            await self._ack(slug, message.id)
            return
        customer = not message.from_me and not is_status_like(message.chat)
        owner = message.from_me and not is_status_like(message.chat)
        fresh = await self.messages.record(slug, message, customer=customer, owner=owner, now=self._clock.now())
        await self._ack(slug, message.id)
        if not fresh or message.sent_by_bridge or is_status_like(message.chat):
            return
        tenant = await self.cache.get(slug)
        if tenant is None:
            return
        if message.is_group and not tenant.settings.groups_enabled:
            await self._settle(slug, message, MessageStatus.IGNORED)
            return
        if owner:
            await self._owner(tenant, message)
            return
        self._metrics.messages_in.labels(slug).inc()
        await self._customer(tenant, message)

    async def _customer(self, tenant: Tenant, message: Message) -> None:
        slug, now = tenant.slug, self._clock.now()
        if tenant.suspended:
            await self._settle(slug, message, MessageStatus.HELD)
            return
        chat, previous = await self.chats.touch_customer(
            slug, message.chat, now, message.push_name, message.sender_phone)
        memory = timedelta(hours=tenant.settings.memory_hours)
        if chat.conversation_id and previous is not None and previous <= now - memory:
            # Quiet longer than the memory window: this turn starts afresh, as the customer
            # was promised, even if the cleanup has not deleted the old conversation yet.
            await self.chats.retire_conversation(slug, message.chat, chat.conversation_id)
        if chat.paused:
            if not chat.handoff_expired(now, tenant.settings.handoff_hours):
                await self._settle(slug, message, MessageStatus.HELD)
                return
            await self.chats.resume(slug, message.chat)
        if not answerable(message):
            await self._settle(slug, message, MessageStatus.IGNORED)
            await self._unsupported(tenant, message.chat)
            return
        media = message.media
        self.lanes.add(
            Incoming(slug, message.chat, message.id, message.kind, message.text,
                     media.data_base64 if media else None, media.mime if media else None),
            tenant.settings.debounce_seconds,
        )

    async def _owner(self, tenant: Tenant, message: Message) -> None:
        """Apply what the owner wrote; it stays pending until then, so a crash does not lose it."""
        try:
            await self.owner.handle(tenant, message)
        except Exception:  # logged by the caller; settled all the same, so it is not retried forever
            await self._settle(tenant.slug, message, MessageStatus.IGNORED)
            raise
        # Not on cancellation: a shutdown in the middle leaves it pending for the next start.
        await self._settle(tenant.slug, message, MessageStatus.IGNORED)

    async def _unsupported(self, tenant: Tenant, chat: str) -> None:
        settings = tenant.settings
        if settings.unsupported_reply and await self.chats.claim_once_per_hour(
            tenant.slug, chat, "unsupported_at", self._clock.now()
        ):
            await self.sender.notice(tenant.slug, chat, settings.unsupported_text)

    async def _settle(self, slug: str, message: Message, status: MessageStatus) -> None:
        await self.messages.settle(slug, message.chat, [message.id], status, self._clock.now())

    async def _ack(self, slug: str, message_id: str) -> None:
        try:
            await self._bridges.ack(slug, message_id)
        except BridgeError as exc:
            # Recorded already: the bridge resends it, and the duplicate is acked then.
            log.info("tenant %s: ack of %s not sent (%s)", slug, message_id, exc)

    # --- control events ----------------------------------------------------------

    async def handle_control(self, event: object) -> None:
        """Bridge connections and tenant changes; errors are logged, never raised."""
        slug = event.tenant
        try:
            if isinstance(event, BridgeConnected):
                await self.sender.flush(slug)
                await self.resume_pending(slug)
            elif isinstance(event, WhatsAppStateChanged):
                if event.state.state == "connected" and event.previous.state != "connected":
                    await self.sender.flush(slug)
            elif isinstance(event, TenantKeyChanged):
                self.cache.forget(slug)
                self.clients.drop(slug)
                self.health.forget(slug)
                self.lanes.wake(slug)
                await self.resume_pending(slug)
            elif isinstance(event, TenantUpdated):
                self.cache.forget(slug)
            elif isinstance(event, TenantDeleted):
                await self._forget_tenant(slug)
        except Exception:
            log.exception("tenant %s: handling %s failed", slug, type(event).__name__)

    async def resume_pending(self, slug: str) -> int:
        """Queue the tenant's unanswered customer messages recorded before this run started."""
        tenant = await self.cache.get(slug)
        if tenant is None:
            return 0
        queued = 0
        for pending in await self.messages.pending(slug, before_order=self._boot_order):
            if pending.owner:  # in order with the turns: a pause typed before the crash holds those after it
                try:
                    await self._owner(tenant, pending.as_owner_message())
                except Exception:  # settled already; the turns after it still resume
                    log.exception("tenant %s: owner message %s could not be applied", slug, pending.id)
                continue
            if self.lanes.knows(slug, pending.id):
                continue
            self.lanes.add(
                Incoming(slug, pending.chat, pending.id, pending.kind, pending.text,
                         pending.media_base64, pending.media_mime),
                0,
            )
            queued += 1
        if queued:
            log.info("tenant %s: %d unanswered message(s) resumed", slug, queued)
        return queued

    def _recovered(self, slug: str) -> None:
        self.lanes.wake(slug)

    async def _forget_tenant(self, slug: str) -> None:
        self.cache.forget(slug)
        self.clients.drop(slug)
        self.health.forget(slug)
        for repo in (self.chats, self.messages):
            await repo.delete_tenant(slug)
