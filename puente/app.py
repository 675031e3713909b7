"""The composition root: builds every component in order, stops them in reverse."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.admin_bot import AdminBot
from bot.qr_watchers import open_qr_watchers
from core.bus import EventBus
from core.clock import Clock, SystemClock
from core.data_dir import make_private_dir
from core.instance_lock import InstanceLock
from core.metrics import Metrics
from core.migrations import migrate
from core.settings import Settings
from core.store import store_for
from puente.store_import import FormerStoreImport
from relay.bridges.endpoint import BridgeEndpoint
from relay.bridges.login import WhatsAppLogin
from relay.bridges.registry import Bridges
from relay.bridges.states import WhatsAppStates
from relay.bridges.supervisor import BridgeSupervisor
from relay.cleanup import Cleanup
from relay.pipeline import Pipeline
from relay.stats import Stats
from relay.usage import UsageReport, load_prices, open_usage
from relay.weekly import WeeklySummary
from tenants.audit import open_audit_log
from tenants.invites import InviteMailer
from tenants.knowledge import Knowledge, open_knowledge
from tenants.repository import open_tenants
from tenants.secrets import SecretBox, load_or_create_key
from tenants.service import TenantService
from web.landing import LandingPages
from web.ops import OpsEndpoints
from web.server import HttpServer

log = logging.getLogger("puente.app")
STOP_TIMEOUT = 10.0


class Component(Protocol):
    """Anything with a lifecycle."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Puente:
    """Every long-lived part of one Puente process, wired together."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    with_admin_bot: bool = True

    def __post_init__(self) -> None:
        self.store = store_for(self.settings)
        self.bus = EventBus()
        self.http = HttpServer(self.settings.http_host, self.settings.http_port)
        self.ops_http = HttpServer(self.settings.ops_host, self.settings.ops_port)
        self._started: list[Component] = []

    async def start(self) -> None:
        """Start everything; on a failure, stop what had started and re-raise."""
        try:
            await self._start_store()
            self._build()
            for component in self._components():
                await component.start()
                self._started.append(component)
        except BaseException:
            await self.stop()
            raise

    async def _start_store(self) -> None:
        make_private_dir(self.settings.data_dir)
        lock = _DataDirLock(self.settings.data_dir)
        await lock.start()  # AlreadyRunning: another Puente has this DATA_DIR
        self._started.append(lock)
        await self.store.start()
        self._started.append(self.store)
        await migrate(self.store.db)

    def _build(self) -> None:
        db, settings, clock, bus = self.store.db, self.settings, self.clock, self.bus
        self.metrics = Metrics()
        self.tenant_repo = open_tenants(db)
        self.audit = open_audit_log(db, clock)
        self.qr_watchers = open_qr_watchers(db)
        secret_key = load_or_create_key(settings.secret_key, settings.data_dir)
        self.box = SecretBox(secret_key)
        self.tenants = TenantService(
            self.tenant_repo, self.audit, self.box, clock, bus.publish, settings.openai_default_model,
            default_timezone=settings.default_timezone,
        )
        self.bridges = Bridges()
        self.states = WhatsAppStates(self.tenants, bus, clock, self.metrics)
        self.endpoint = BridgeEndpoint(self.http.app, self.tenants, self.bridges, self.states, bus, clock=clock,
                                       trusted_proxies=settings.trusted_proxies)
        self.supervisor = BridgeSupervisor(
            settings, self.tenants, self.bridges, self.states, bus, self.metrics, self._bridge_url, clock=clock,
            shutdown_grace=3.0, kill_grace=4.0,  # all within STOP_TIMEOUT of a SIGTERM
        )
        self.login = WhatsAppLogin(self.tenants, self.supervisor, self.bridges, self.states)
        self.stats = Stats(db, clock)
        prices = load_prices(settings.prices_file)  # ConfigError naming PRICES_FILE
        self.usage = UsageReport(open_usage(db), prices, clock)
        # One instance for the relay and the admin bot: its cache of each tenant's stores hears
        # the bot's changes at once.
        self.knowledge = Knowledge(open_knowledge(db), self.tenants, clock, base_url=settings.openai_base_url)
        self.pipeline = Pipeline(db, bus, self.tenants, self.bridges, self.states, settings, clock, self.metrics,
                                 prices=prices, knowledge=self.knowledge)
        self.cleanup = Cleanup(db, self.tenants, self.pipeline.clients, clock, knowledge=self.knowledge)
        self.weekly = WeeklySummary(pipeline=self.pipeline, stats=self.stats, tenants=self.tenants,
                                    states=self.states, settings=settings, clock=clock)
        self.tenants.before_delete(self.cleanup.forget_tenant)  # "forgets after 24 hours" holds for deleted tenants
        self.mailer = InviteMailer(settings) if settings.email_enabled else None
        self.admin_bot = (
            AdminBot(settings, self.tenants, bus, self.login, self.states, self.stats, self.mailer, clock,
                     qr_watchers=self.qr_watchers, usage=self.usage, knowledge=self.knowledge)
            if self.with_admin_bot else None
        )
        self.pages = LandingPages(
            settings, self.tenants, self.states, self.login, self.stats, bus, clock,
            form_key=hashlib.sha256(b"puente landing forms\0" + secret_key.encode()).digest(),
        )
        self.pages.install(self.http.app)
        ops = OpsEndpoints(self.store, self.metrics, self._bot_polling,
                           lambda: self.admin_bot is not None and self.admin_bot.reconnecting)
        ops.install(self.ops_http.app)
        ops.install_public(self.http.app)
        self._repositories = [self.tenant_repo, self.audit, self.qr_watchers, self.knowledge,
                              *self.pipeline.repositories]

    def _components(self) -> list[Component]:
        """In start order; they stop in reverse (the admin bot first, the store last)."""
        components: list[Component] = [
            _Indexes(self._repositories), FormerStoreImport(self.store), self.states, self.endpoint, self.pipeline,
            self.pages,
            self.bus, self.http, self.ops_http, self.supervisor, self.cleanup, self.weekly,
        ]
        if self.admin_bot is not None:
            components.append(self.admin_bot)
        return components

    def _bridge_url(self) -> str:
        """Where local bridges reach the relay: loopback unless the server is bound elsewhere."""
        host = self.settings.http_host
        if host in ("", "0.0.0.0", "::", "localhost"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"ws://{host}:{self.http.port}/bridge"

    def _bot_polling(self) -> bool:
        return self.admin_bot is None or self.admin_bot.is_polling

    async def stop(self) -> None:
        """Stop what started, newest first; one failure does not stop the others."""
        while self._started:
            component = self._started.pop()
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", type(component).__name__)


class _DataDirLock:
    """One Puente per DATA_DIR (core/instance_lock.py), held from start to stop."""

    def __init__(self, data_dir: Path) -> None:
        self._lock = InstanceLock(data_dir)

    async def start(self) -> None:
        self._lock.acquire()

    async def stop(self) -> None:
        self._lock.release()


class _Indexes:
    """Creates every repository's declared indexes at start-up."""

    def __init__(self, repositories: list) -> None:
        self._repositories = repositories

    async def start(self) -> None:
        for repo in self._repositories:
            await repo.ensure_indexes()

    async def stop(self) -> None:
        return None


async def run(settings: Settings) -> None:
    """`puente run`: start, wait for SIGINT or SIGTERM, stop within 10 seconds."""
    puente = Puente(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await puente.start()
    log.info("Puente is running on port %s (operations on %s)", puente.http.port, puente.ops_http.port)
    signalled = asyncio.ensure_future(stopping.wait())
    store_lost = asyncio.ensure_future(puente.store.lost())
    token_refused = asyncio.ensure_future(puente.admin_bot.fatal() if puente.admin_bot else asyncio.Event().wait())
    await asyncio.wait({signalled, store_lost, token_refused}, return_when=asyncio.FIRST_COMPLETED)
    signalled.cancel()
    lost = store_lost.result() if store_lost.done() else None
    lost = token_refused.result() if lost is None and token_refused.done() else lost
    store_lost.cancel()
    token_refused.cancel()
    if lost is not None:
        log.error("%s", lost)
    log.info("stopping")
    try:
        await asyncio.wait_for(puente.stop(), STOP_TIMEOUT)
    except TimeoutError:
        log.error("did not stop within %.0f s; exiting anyway", STOP_TIMEOUT)
    if lost is not None:
        raise lost
