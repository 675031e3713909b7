"""The pipeline: every WhatsApp message a bridge reports, from record and ack to the reply.

Inbound, per message, in the tenant's own inbox (relay/pipeline/inbox.py): record it once
(dedupe by id), ack it, drop what the bot must not answer, hand owner messages to the
OwnerDesk, hold messages of paused chats and suspended tenants, and queue the rest in the
chat's lane (debounce, one turn at a time). Nothing on this path waits for a bridge to
send: replies and notices go out from the lanes and from background tasks.

A bridge connecting goes through the same inbox, so after a restart the owner's pending
commands are applied before the messages the bridge sends next. A periodic maintenance
step retries stuck replies and re-queues pending messages that nothing holds any more.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from core.bus import EventBus
from core.clock import Clock
from core.events import (
    Alert,
    AlertKind,
    BridgeConnected,
    TenantDeleted,
    TenantKeyChanged,
    TenantUpdated,
    WhatsAppStateChanged,
)
from core.metrics import Metrics
from core.settings import Settings
from core.sqlite import DatabaseFull, DatabaseReadOnly
from core.tasks import cancel, spawn
from relay.assistant import Assistant, OpenAIClients, RetryPolicy
from relay.bridges.errors import BridgeError
from relay.bridges.events import MessageReceived, SendRejected
from relay.chats import open_chats
from relay.handoffs import open_handoffs
from relay.message_log import MessageStatus, PendingMessage, open_message_log
from relay.openai_errors import open_openai_errors
from relay.outbox import open_outbox
from relay.pipeline.bridge_port import BridgeCommands, StateSource
from relay.pipeline.budget import BudgetDesk
from relay.pipeline.handoff import HandoffDesk
from relay.pipeline.health import KeyHealth
from relay.pipeline.hours import AwayDesk
from relay.pipeline.inbox import TenantInboxes
from relay.pipeline.lanes import ChatLanes, Incoming
from relay.pipeline.owner import OwnerDesk
from relay.pipeline.rejections import SendRejections
from relay.pipeline.replies import ReplySender
from relay.pipeline.tenant_cache import TenantCache
from relay.pipeline.turns import TurnRunner
from relay.protocol import Message
from relay.usage import Prices, UsageRecorder, UsageReport, load_prices, open_usage
from tenants.knowledge import Knowledge
from tenants.model import Tenant
from tenants.service import TenantService

log = logging.getLogger("relay.pipeline")

HANDLED_KINDS = {"text", "audio", "image"}
# An owner command that fails to apply (the store hiccups) is tried this many times in a
# row, then left pending for the sweep, which tries it this many more rounds.
OWNER_ATTEMPTS = 3
OWNER_SWEEP_ROUNDS = 3
# What a store says when it cannot write now; the message waits in the bridge instead.
STORE_TROUBLE = (DatabaseFull, DatabaseReadOnly, PyMongoError)
# WebSocket close code asking a bridge to reconnect later (its tenant's inbox is full).
CLOSE_TRY_AGAIN_LATER = 1013
# An audio or image the bridge could not bring (`media_omitted`) is no unsupported kind:
# the customer is asked to send it another way (once an hour per chat, like that notice).
MEDIA_LOST = {"too_large", "download_failed", "download_timeout"}
MEDIA_LOST_NOTICES = {
    "audio": "No pude recibir tu audio (es muy largo o no se descargó). ¿Me lo escribes?",
    "image": "No pude recibir tu imagen (es muy pesada o no se descargó). ¿Me cuentas por escrito qué necesitas?",
}


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
        clients: OpenAIClients | None = None, retry: RetryPolicy | None = None, prices: Prices | None = None,
        knowledge: Knowledge | None = None, max_per_tenant: int = 8, max_total: int = 64, stop_grace: float = 5.0,
        retry_every: float = 10.0, sweep_every: float = 60.0, sweep_grace: float = 60.0,
        inbox_messages: int = 500, inbox_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self._stop_grace = stop_grace
        self._bus = bus
        self._tenants = tenants
        self._bridges = bridges
        self._clock = clock
        self._metrics = metrics
        self.chats = open_chats(db)
        self.messages = open_message_log(db)
        self.outbox = open_outbox(db)
        self.openai_errors = open_openai_errors(db)
        self.handoffs = open_handoffs(db)
        self.usage = open_usage(db)
        self.clients = clients or OpenAIClients(settings.openai_base_url)
        self.cache = TenantCache(tenants)
        self.health = KeyHealth(tenants, bus.publish, self.openai_errors, clock, metrics)
        self.sender = ReplySender(self.outbox, bridges, clock, metrics, bus.publish)
        self.rejections = SendRejections(self.messages, bridges, clock, metrics, bus.publish)
        self.owner = OwnerDesk(
            chats=self.chats, tenants=tenants, cache=self.cache, sender=self.sender, bridges=bridges,
            states=states, clock=clock, handoffs=self.handoffs, knowledge=knowledge, alert=bus.publish,
        )
        prices = prices or load_prices(settings.prices_file)
        self.budget = BudgetDesk(
            tenants=tenants, cache=self.cache, chats=self.chats, sender=self.sender,
            cost_between=UsageReport(self.usage, prices, clock).cost_between, owner_phone=self.owner.owner_phone,
            alert=bus.publish, clock=clock, default_zone=settings.default_timezone,
        )
        self.turns = TurnRunner(
            cache=self.cache, tenants=tenants, chats=self.chats, messages=self.messages, clients=self.clients,
            assistant=Assistant(settings.openai_transcription_model, self.clients.responses, retry), health=self.health,
            sender=self.sender, bridges=bridges, clock=clock, metrics=metrics, on_recovered=self._recovered,
            handoff=HandoffDesk(chats=self.chats, counts=self.handoffs, sender=self.sender,
                                owner_phone=self.owner.owner_phone, alert=bus.publish, clock=clock),
            usage=UsageRecorder(self.usage, prices, settings.openai_transcription_model, clock,
                                on_cost=self.budget.add),
            budget=self.budget, knowledge=knowledge, alert=bus.publish,
        )
        self.away = AwayDesk(self.chats, self.sender, clock)
        self.lanes = ChatLanes(self.turns.run, per_tenant=max_per_tenant, total=max_total)
        self.inboxes = TenantInboxes(self._handle, self._overflow, max_messages=inbox_messages,
                                     max_bytes=inbox_bytes)
        self._retry_every = retry_every
        self._sweep_every = sweep_every
        self._sweep_grace = sweep_grace
        self._maintenance: asyncio.Task | None = None
        self._subscribed = False
        self._boot_order = 0
        self._resumed: set[str] = set()  # tenants whose backlog from before this run is queued
        self._owner_rounds: dict[tuple[str, str], int] = {}
        self._background: set[asyncio.Task] = set()
        self._store_down = False

    @property
    def repositories(self) -> list:
        """Every collection this pipeline writes, for index creation at start-up."""
        return [self.chats, self.messages, self.openai_errors, self.handoffs, self.usage]

    async def start(self) -> None:
        # Messages recorded before this moment belong to an earlier run: resume_pending answers
        # them; later ones are in this run's lanes already.
        self._boot_order = time.time_ns()
        self._resumed.clear()
        for repo in self.repositories:
            await repo.ensure_indexes()
        if not self._subscribed:
            # One subscription for everything tenant-scoped, so each tenant's inbox sees a
            # bridge connecting before the frames that bridge sends after it.
            self._bus.subscribe(
                "pipeline", self.dispatch, MessageReceived, SendRejected, BridgeConnected, WhatsAppStateChanged,
                TenantUpdated, TenantKeyChanged, TenantDeleted,
            )
            self._subscribed = True
        self._maintenance = spawn(self._maintain(), name="pipeline-maintenance")

    async def stop(self) -> None:
        await cancel(self._maintenance)
        await self.inboxes.stop()
        await self.lanes.stop(self._stop_grace)
        await self.sender.stop()
        # Nothing of this pipeline may write to the store once it has stopped (flushes,
        # command deletions): what they had not done is in the outbox or the log anyway.
        await cancel(*self._background, *self.owner.background)
        await self.clients.close()

    def busy(self) -> int:
        """Items in the tenants' inboxes, turns queued or running, notices on their way."""
        return (self.inboxes.busy() + self.lanes.busy() + self.sender.busy() + self.owner.busy()
                + len(self._background))

    # --- inbound -----------------------------------------------------------------

    async def dispatch(self, event: object) -> None:
        """Bus handler: into the tenant's inbox, at once (never waits for the tenant)."""
        slug = event.tenant
        if isinstance(event, MessageReceived):
            media = event.message.media
            size = len(event.message.text or "") + (len(media.data_base64) if media else 0)
            self.inboxes.put_message(slug, event.message, size)
        else:
            self.inboxes.put(slug, event)

    async def _handle(self, slug: str, item: object) -> None:
        """One item of a tenant's inbox; errors are logged by the inbox and never stop it."""
        if isinstance(item, Message):
            await self.handle_message(MessageReceived(slug, item))
        elif isinstance(item, PendingMessage):
            await self._restrand(item)
        elif isinstance(item, SendRejected):  # in line with the tenant's messages, like them
            await self.handle_send_rejected(item)
        else:
            await self.handle_control(item)

    def _overflow(self, slug: str) -> None:
        conn = self._bridges.connection(slug)
        if conn is not None:
            self._in_background(conn.close(CLOSE_TRY_AGAIN_LATER, "relay busy: send the rest again later"),
                                f"overflow:{slug}")

    async def handle_message(self, event: MessageReceived) -> None:
        """Error boundary for one MessageReceived: never lets one message stop the others."""
        try:
            await self._receive(event.tenant, event.message)
        except STORE_TROUBLE as exc:
            self._store_refused(event.tenant, exc)
        except Exception:
            self._metrics.errors.labels("pipeline").inc()
            log.exception("tenant %s: message %s could not be handled", event.tenant, event.message.id)
        else:
            if self._store_down:
                self._store_down = False
                log.warning("the store takes writes again; waiting messages are being recorded")

    async def handle_send_rejected(self, event: SendRejected) -> None:
        """Error boundary for one reply WhatsApp refused; a store that cannot record it leaves
        it unacked, for the bridge to send again."""
        try:
            await self.rejections.handle(event.tenant, event.frame)
        except STORE_TROUBLE as exc:
            self._store_refused(event.tenant, exc)
        except Exception:
            self._metrics.errors.labels("pipeline").inc()
            log.exception("tenant %s: %s could not be handled", event.tenant, event.frame.id)

    def _store_refused(self, slug: str, exc: Exception) -> None:
        """The store cannot record (disk full, read-only, unreachable): the message stays
        unacked on the phone's side, and the bridge is asked to send it again later."""
        self._metrics.errors.labels("store").inc()
        if not self._store_down:
            self._store_down = True
            log.error("the store refuses writes (%s); messages wait unacked in the bridges until it recovers", exc)
            self._bus.publish(Alert(slug, AlertKind.STORE_TROUBLE, {"reason": str(exc)}))
        self._overflow(slug)  # the bridge reconnects with backoff and resends what is unacked

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
        if previous is None:  # a chat seen for the first time: a new customer, for the digest
            await self.handoffs.record_new_customer(slug, now)
        memory = timedelta(hours=tenant.settings.memory_hours)
        if chat.conversation_id and previous is not None and previous <= now - memory:
            # Quiet longer than the memory window: this turn starts afresh, as the customer
            # was promised, even if the cleanup has not deleted the old conversation yet.
            await self.chats.retire_conversation(slug, message.chat, chat.conversation_id)
        written = message.written_at(now)
        if chat.paused and await self.turns.held(tenant, chat, written):
            await self._settle(slug, message, MessageStatus.HELD)
            return
        if await self.away.holds(tenant, message.chat):  # closed, away mode: not answered later either
            await self._settle(slug, message, MessageStatus.HELD)
            return
        if not answerable(message):
            await self._settle(slug, message, MessageStatus.IGNORED)
            await self._unsupported(tenant, message)
            return
        media = message.media
        self.lanes.add(
            Incoming(slug, message.chat, message.id, message.kind, message.text,
                     media.data_base64 if media else None, media.mime if media else None, written,
                     media.seconds if media else None),
            tenant.settings.debounce_seconds,
        )

    async def _owner(self, tenant: Tenant, message: Message) -> None:
        """Apply what the owner wrote; it stays pending until then, so a crash does not lose
        it, and so does a transient failure: tried again now, then by the sweep."""
        key = (tenant.slug, message.id)
        for attempt in range(OWNER_ATTEMPTS):
            try:
                await self.owner.handle(tenant, message)
                break
            except Exception as exc:
                if attempt + 1 < OWNER_ATTEMPTS:
                    await asyncio.sleep(0.1 * 3**attempt)
                    continue
                rounds = self._owner_rounds[key] = self._owner_rounds.get(key, 0) + 1
                if rounds < OWNER_SWEEP_ROUNDS:
                    log.warning("tenant %s: owner message %s not applied yet (%s); kept pending, tried again later",
                                tenant.slug, message.id, exc)
                    return
                log.error("tenant %s: owner message %s could not be applied after %d tries (%s); given up",
                          tenant.slug, message.id, OWNER_ATTEMPTS * rounds, exc)
                break
        self._owner_rounds.pop(key, None)
        # Not on cancellation: a shutdown in the middle leaves it pending for the next start.
        await self._settle(tenant.slug, message, MessageStatus.IGNORED)

    async def _unsupported(self, tenant: Tenant, message: Message) -> None:
        settings, chat, now = tenant.settings, message.chat, self._clock.now()
        lost = MEDIA_LOST_NOTICES.get(message.kind) if message.media_omitted in MEDIA_LOST else None
        if lost is not None:
            if await self.chats.claim_once_per_hour(tenant.slug, chat, "media_lost_at", now):
                self.sender.notice_soon(tenant.slug, chat, lost)
        elif settings.unsupported_reply and await self.chats.claim_once_per_hour(
            tenant.slug, chat, "unsupported_at", now
        ):
            self.sender.notice_soon(tenant.slug, chat, settings.unsupported_text)

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
                self._in_background(self.sender.flush(slug), f"flush:{slug}")
                await self._resume_once(slug)
            elif isinstance(event, WhatsAppStateChanged):
                if event.state.state == "connected" and event.previous.state != "connected":
                    self._in_background(self.sender.flush(slug), f"flush:{slug}")
            elif isinstance(event, TenantKeyChanged):
                self.cache.forget(slug)
                self.clients.drop(slug)
                self.health.forget(slug)
                self.lanes.wake(slug)
                await self._resume_once(slug)
            elif isinstance(event, TenantUpdated):
                self.cache.forget(slug)
            elif isinstance(event, TenantDeleted):
                await self._forget_tenant(slug)
        except Exception:
            log.exception("tenant %s: handling %s failed", slug, type(event).__name__)

    async def _resume_once(self, slug: str) -> None:
        """The tenant's backlog from before this run, queued once: a bridge reconnecting
        during recovery must not queue turns that have just been answered."""
        if slug in self._resumed:
            return
        self._resumed.add(slug)
        try:
            await self.resume_pending(slug)
        except BaseException:
            self._resumed.discard(slug)
            raise

    async def resume_pending(self, slug: str) -> int:
        """Queue the tenant's unanswered customer messages recorded before this run started,
        and apply its owner's commands among them, in order."""
        tenant = await self.cache.get(slug)
        if tenant is None:
            return 0
        queued = 0
        for pending in await self.messages.pending(slug, before_order=self._boot_order):
            if pending.owner:  # in order with the turns: a pause typed before the crash holds those after it
                await self._owner(tenant, pending.as_owner_message())
                continue
            queued += self._queue_pending(pending)
        if queued:
            log.info("tenant %s: %d unanswered message(s) resumed", slug, queued)
        return queued

    def _queue_pending(self, pending: PendingMessage) -> int:
        if self.lanes.knows(pending.tenant, pending.id):
            return 0
        self.lanes.add(
            Incoming(pending.tenant, pending.chat, pending.id, pending.kind, pending.text,
                     pending.media_base64, pending.media_mime, pending.at),
            0,
        )
        return 1

    # --- maintenance -------------------------------------------------------------

    async def _maintain(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self._sweep_every
        while True:
            await asyncio.sleep(min(self._retry_every, self._sweep_every))
            try:
                await self.sender.retry_stuck(self._bridges.is_connected)
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + self._sweep_every
                    await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pipeline maintenance failed; tried again in %.0f s", self._retry_every)

    async def sweep(self, grace: float | None = None) -> int:
        """Hand every pending message older than `grace` seconds that nothing holds (a
        failure after its ack stranded it) back to its tenant's inbox; how many."""
        cutoff = time.time_ns() - int((self._sweep_grace if grace is None else grace) * 1e9)
        handed = 0
        for pending in await self.messages.stranded(cutoff):
            if pending.tenant not in self._resumed or self.lanes.knows(pending.tenant, pending.id):
                continue  # the first resume of that tenant takes it, or a lane has it
            self.inboxes.put(pending.tenant, pending)
            handed += 1
        if handed:
            log.info("sweep: %d stranded message(s) handed back", handed)
        return handed

    async def _restrand(self, pending: PendingMessage) -> None:
        """A stranded message, back in its tenant's inbox: queued or applied if still pending."""
        if not await self.messages.still_pending(pending.tenant, pending.chat, [pending.id]):
            return
        if pending.owner:
            tenant = await self.cache.get(pending.tenant)
            if tenant is not None:
                await self._owner(tenant, pending.as_owner_message())
            return
        if self._queue_pending(pending):
            log.info("tenant %s: stranded message %s queued again", pending.tenant, pending.id)

    def _in_background(self, coro, name: str) -> None:
        task = spawn(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _recovered(self, slug: str) -> None:
        self.lanes.wake(slug)

    async def _forget_tenant(self, slug: str) -> None:
        self.cache.forget(slug)
        self.clients.drop(slug)
        self.health.forget(slug)
        self.inboxes.forget(slug)
        self.sender.forget(slug)
        for repo in (self.chats, self.messages, self.handoffs, self.usage):
            await repo.delete_tenant(slug)
