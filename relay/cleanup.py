"""The hourly cleanup: forget idle conversations, end expired handoffs, prune old records.

Runs at start-up and then every hour (APScheduler), so a conversation is deleted at
OpenAI within an hour of leaving the tenant's memory window. Every step is per chat and
idempotent, so an interrupted run is finished by the next one, and one tenant's failure
(a bad key, say) never stops the others. `run()` can be called directly with any clock.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import openai
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pymongo.asynchronous.database import AsyncDatabase

from core.clock import Clock
from core.tasks import spawn
from relay.assistant import OpenAIClients
from relay.chats import open_chats
from relay.handoffs import open_handoffs
from relay.message_log import open_message_log
from relay.openai_errors import open_openai_errors
from relay.usage import open_usage
from tenants.audit import RETENTION as AUDIT_RETENTION
from tenants.audit import open_audit_log
from tenants.knowledge import Knowledge
from tenants.model import Tenant
from tenants.service import TenantService

log = logging.getLogger("relay.cleanup")

DEDUPE_DAYS = 7
# A chat that holds nothing any more (no conversation, live or retired, no pause) is
# forgotten after this long: longer than every other window (memory, handoff, dedupe).
STALE_CHAT_DAYS = 30


@dataclass
class CleanupCounts:
    """What one run did."""

    conversations_forgotten: int = 0
    handoffs_ended: int = 0
    records_removed: int = 0
    chats_forgotten: int = 0
    audit_removed: int = 0
    failures: int = 0
    failed_tenants: list[str] = field(default_factory=list)


class Cleanup:
    """The cleanup job; start() schedules it, run() does one pass."""

    def __init__(
        self, db: AsyncDatabase, tenants: TenantService, clients: OpenAIClients, clock: Clock,
        *, interval_hours: float = 1.0, knowledge: Knowledge | None = None,
    ) -> None:
        self._chats = open_chats(db)
        self._messages = open_message_log(db)
        self._errors = open_openai_errors(db)
        self._handoffs = open_handoffs(db)
        self._usage = open_usage(db)
        self._audit = open_audit_log(db, clock)
        self._tenants = tenants
        self._clients = clients
        self._clock = clock
        self._knowledge = knowledge
        self._interval_hours = interval_hours
        self._scheduler: AsyncIOScheduler | None = None
        self._forgetting: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Run now (in the background) and then every `interval_hours`."""
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        # The scheduler runs on real time; the job itself reads the injected clock.
        self._scheduler.add_job(
            self._scheduled_run, "interval", hours=self._interval_hours, next_run_time=datetime.now(UTC),
            id="cleanup", max_instances=1, coalesce=True, misfire_grace_time=3600,
        )
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        for task in list(self._forgetting):  # a deleted tenant's conversations still being deleted
            task.cancel()
        await asyncio.gather(*self._forgetting, return_exceptions=True)

    async def _scheduled_run(self) -> None:
        """The scheduler's entry: a run cut short (store gone, shutdown) is one log line, not a traceback."""
        try:
            await self.run()
        except Exception as exc:
            log.warning("cleanup did not finish (%s); the next run will", type(exc).__name__)
        except asyncio.CancelledError:  # the outermost coroutine of this job: nothing above it waits
            log.info("cleanup interrupted by shutdown; the next run finishes it")

    async def run(self) -> CleanupCounts:
        """One full pass over every tenant; never raises for one tenant's trouble."""
        counts = CleanupCounts()
        now = self._clock.now()
        for tenant in await self._tenants.all():
            try:
                await self._tenant(tenant, counts)
            except Exception as exc:
                counts.failed_tenants.append(tenant.slug)
                log.warning("cleanup of tenant %s stopped: %s", tenant.slug, type(exc).__name__)
        counts.records_removed = await self._messages.forget_old(now, DEDUPE_DAYS)
        counts.chats_forgotten = await self._chats.forget_stale(now - timedelta(days=STALE_CHAT_DAYS))
        counts.audit_removed = await self._audit.forget_older_than(now - AUDIT_RETENTION)
        await self._errors.forget_old(now)
        await self._handoffs.forget_old(now)
        await self._usage.forget_old(now)
        log.info(
            "cleanup: %d conversation(s) forgotten, %d handoff(s) ended, %d quiet chat log(s) and %d stale "
            "chat(s) removed, %d audit entries past retention, %d failure(s)", counts.conversations_forgotten,
            counts.handoffs_ended, counts.records_removed, counts.chats_forgotten, counts.audit_removed,
            counts.failures,
        )
        return counts

    async def _tenant(self, tenant: Tenant, counts: CleanupCounts) -> None:
        now = self._clock.now()
        if self._knowledge is not None:
            # Knowledge files whose processing was still followed when Puente stopped settle
            # here (the view asks OpenAI about files still processing, and only about those).
            await self._knowledge.view(tenant.slug)
        settings = tenant.settings
        counts.handoffs_ended += await self._chats.expired_handoffs(
            tenant.slug, now - timedelta(hours=settings.handoff_hours)
        )
        idle = await self._chats.idle_conversations(tenant.slug, now - timedelta(hours=settings.memory_hours))
        retired = await self._chats.retired_conversations(tenant.slug)
        if not idle and not retired:
            return
        client = self._clients.get(tenant.slug, self._tenants.openai_key(tenant))
        for chat in idle:
            if await self._delete_conversation(tenant.slug, client, chat.conversation_id, counts):
                await self._chats.forget_conversation(tenant.slug, chat.chat, chat.conversation_id)
                counts.conversations_forgotten += 1
        for chat_id, conversation_id in retired:
            if await self._delete_conversation(tenant.slug, client, conversation_id, counts):
                await self._chats.drop_retired(tenant.slug, chat_id, conversation_id)
                counts.conversations_forgotten += 1

    async def forget_tenant(self, tenant: Tenant) -> None:
        """A tenant is being deleted: delete all its conversations at OpenAI, not only idle ones,
        and its knowledge (files and vector store).

        The conversation ids are read now, before its chats go with it; those deletes run in the
        background with its key (its client stays usable after the pipeline drops it). The
        knowledge is deleted before the tenant goes, while its key can still be read; best
        effort, never in the way of the deletion.
        """
        if self._knowledge is not None:
            try:
                await self._knowledge.forget_tenant(tenant.slug)
            except Exception as exc:
                log.warning("tenant %s (deleted): forgetting its knowledge failed (%s)", tenant.slug, type(exc).__name__)
        chats = await self._chats.idle_conversations(tenant.slug)
        ids = [chat.conversation_id for chat in chats]
        ids += [conversation for _, conversation in await self._chats.retired_conversations(tenant.slug)]
        if ids:
            client = self._clients.get(tenant.slug, self._tenants.openai_key(tenant))
            task = spawn(self._delete_all(tenant.slug, client, ids), name=f"forget:{tenant.slug}")
            self._forgetting.add(task)
            task.add_done_callback(self._forgetting.discard)

    async def _delete_all(self, slug: str, client: openai.AsyncOpenAI, ids: list[str]) -> None:
        counts = CleanupCounts()
        for conversation_id in ids:
            try:
                await self._delete_conversation(slug, client, conversation_id, counts)
            except openai.AuthenticationError:
                log.warning("tenant %s (deleted): its key is refused; %d conversation(s) left at OpenAI",
                            slug, len(ids))
                return
        log.info("tenant %s (deleted): %d of %d conversation(s) deleted at OpenAI",
                 slug, len(ids) - counts.failures, len(ids))

    @staticmethod
    async def _delete_conversation(
        slug: str, client: openai.AsyncOpenAI, conversation_id: str, counts: CleanupCounts,
    ) -> bool:
        """Delete one conversation; False (counted as a failure) when it should be tried again."""
        try:
            await client.conversations.delete(conversation_id)
        except openai.NotFoundError:
            pass  # already gone: that is what we wanted
        except openai.AuthenticationError:
            raise  # the key is bad: every other chat of this tenant would fail the same way
        except openai.OpenAIError as exc:
            counts.failures += 1
            log.info("tenant %s: deleting a conversation failed (%s); next run retries", slug, type(exc).__name__)
            return False
        return True
