"""The composition root: builds every component in order, stops them in reverse."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from typing import Protocol

from relay.bus import EventBus
from relay.clock import Clock, SystemClock
from relay.migrations import migrate
from relay.settings import Settings
from relay.store import Store
from tenants.audit import AuditLog
from tenants.repository import TenantRepository
from tenants.secrets import SecretBox, load_or_create_key
from tenants.service import TenantService
from web.server import HttpServer

log = logging.getLogger("relay.app")
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
        self.store = Store(self.settings.mongodb_uri, self.settings.mongodb_db, self.settings.data_dir)
        self.bus = EventBus()
        self.http = HttpServer(self.settings.http_host, self.settings.http_port)
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
        await self.store.start()
        self._started.append(self.store)
        await migrate(self.store.db)

    def _build(self) -> None:
        db = self.store.db
        self.tenant_repo = TenantRepository(db)
        self.audit = AuditLog(db, self.clock)
        self.box = SecretBox(load_or_create_key(self.settings.secret_key, self.settings.data_dir))
        self.tenants = TenantService(
            self.tenant_repo, self.audit, self.box, self.clock, self.bus.publish, self.settings.openai_default_model
        )
        self._repositories = [self.tenant_repo, self.audit]

    def _components(self) -> list[Component]:
        return [_Indexes(self._repositories), self.bus, self.http]

    async def stop(self) -> None:
        """Stop what started, newest first; one failure does not stop the others."""
        while self._started:
            component = self._started.pop()
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", type(component).__name__)


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
    log.info("Puente is running on port %s", puente.http.port)
    await stopping.wait()
    log.info("stopping")
    try:
        await asyncio.wait_for(puente.stop(), STOP_TIMEOUT)
    except TimeoutError:
        log.error("did not stop within %.0f s; exiting anyway", STOP_TIMEOUT)
