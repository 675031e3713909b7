"""A relay for pipeline tests: the real bridge endpoint, pipeline and store, wired like
puente/app.py, with FakeOpenAI behind the real SDK and FakeBridge in front.

`PipelineRig.restart()` stops every relay component and starts new ones on the same
store (the same embedded data directory), the way a relay process restart would.
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.bus import EventBus
from core.events import Alert
from core.metrics import Metrics
from core.settings import load_settings
from core.store import Store
from relay.assistant import OpenAIClients, RetryPolicy
from relay.bridges.endpoint import BridgeEndpoint
from relay.bridges.registry import Bridges
from relay.bridges.states import WhatsAppStates
from relay.cleanup import Cleanup
from relay.pipeline import Pipeline
from relay.stats import Stats
from tenants.audit import open_audit_log
from tenants.knowledge import Knowledge, open_knowledge
from tenants.repository import open_tenants
from tenants.secrets import SecretBox
from tenants.service import NewTenant, TenantService
from tests.fakes import FakeBridge, FakeOpenAI
from tests.support.clock import FakeClock

SECRET_KEY = "x9YbqKkD5mJ8tWq2V3c7N1pL6rT0sA4eF8gH2jK5mN0="
OWNER_PHONE = "5491155550000"
OWNER_CHAT = f"{OWNER_PHONE}@s.whatsapp.net"
CUSTOMER = "5491122223333"
CUSTOMER_CHAT = f"{CUSTOMER}@s.whatsapp.net"
KEY = "sk-test-panaderia-0000000001"


class PipelineRig:
    """One relay process (minus the admin bot) on loopback; see the module docstring."""

    def __init__(self, store: Store, clock: FakeClock, openai_fake: FakeOpenAI, tmp_path: Any) -> None:
        self.store = store
        self.clock = clock
        self.openai = openai_fake
        self.tmp_path = tmp_path
        self.alerts: list[Alert] = []
        self.bridges_fakes: list[FakeBridge] = []
        self.pipeline_options: dict[str, Any] = {}  # e.g. max_per_tenant; applied at (re)start

    async def start(self) -> None:
        """Build and start the relay components on the (started) store."""
        from web.server import HttpServer

        db = self.store.db
        self.bus = EventBus()
        self.metrics = Metrics()
        self.settings = load_settings(require_telegram=False, data_dir=self.tmp_path / "data")
        repo = open_tenants(db)
        audit = open_audit_log(db, self.clock)
        await repo.ensure_indexes()
        await audit.ensure_indexes()
        self.tenants = TenantService(repo, audit, SecretBox(SECRET_KEY), self.clock, self.bus.publish, "gpt-4.1-mini")
        self.http = HttpServer("127.0.0.1", 0)
        self.bridges = Bridges()
        self.states = WhatsAppStates(self.tenants, self.bus, self.clock, self.metrics)
        self.endpoint = BridgeEndpoint(self.http.app, self.tenants, self.bridges, self.states, self.bus,
                                       command_timeout=2.0)
        self.clients = OpenAIClients(f"{self.openai.url}/v1", timeout=1.0, connect_timeout=1.0)
        knowledge_repo = open_knowledge(db)
        await knowledge_repo.ensure_indexes()
        # As puente/app.py builds it, polling OpenAI's processing fast for tests.
        self.knowledge = Knowledge(knowledge_repo, self.tenants, self.clock, base_url=f"{self.openai.url}/v1",
                                   poll_interval=0.01, poll_timeout=2.0)
        self.pipeline = Pipeline(
            db, self.bus, self.tenants, self.bridges, self.states, self.settings, self.clock, self.metrics,
            clients=self.clients, retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05), stop_grace=0.5,
            knowledge=self.knowledge, **self.pipeline_options,
        )
        self.cleanup = Cleanup(db, self.tenants, self.clients, self.clock, knowledge=self.knowledge)
        self.tenants.before_delete(self.cleanup.forget_tenant)
        self.stats = Stats(db, self.clock)
        self.bus.subscribe("test-alerts", self._alert, Alert)
        await self.states.start()
        await self.endpoint.start()
        await self.pipeline.start()
        await self.bus.start()
        await self.http.start()

    async def _alert(self, alert: Alert) -> None:
        self.alerts.append(alert)

    @property
    def bridge_url(self) -> str:
        return f"ws://127.0.0.1:{self.http.port}/bridge"

    async def stop(self) -> None:
        """Stop the relay components (fake bridges are left as they are)."""
        await self.pipeline.stop()
        await self.endpoint.stop()
        await self.http.stop()
        await self.bus.stop()

    async def restart(self) -> None:
        """Stop everything including the store, then start again on the same data."""
        await self.stop()
        await self.store.stop()
        await self.store.start()
        await self.start()

    async def add_tenant(self, slug: str = "panaderia", key: str = KEY, **settings: Any) -> str:
        """A tenant with `settings` changed (e.g. debounce_seconds=0)."""
        await self.tenants.create(NewTenant(slug=slug, name=slug.title(), openai_key=key), "test")
        settings.setdefault("debounce_seconds", 0)
        await self.tenants.update_settings(slug, "test", **settings)
        return slug

    async def connect(self, slug: str = "panaderia", **kwargs: Any) -> FakeBridge:
        """A FakeBridge for `slug`, connected and reporting `connected` with the owner's phone."""
        token = await self.tenants.issue_bridge_token(slug)
        kwargs.setdefault("phone", OWNER_PHONE)
        kwargs.setdefault("clock", lambda: self.clock.now().timestamp())
        bridge = FakeBridge(self.bridge_url, slug, token, **kwargs)
        await bridge.start()
        self.bridges_fakes.append(bridge)
        await self.wait_for(lambda: self.states.get(slug).state == "connected" and self.bridges.is_connected(slug))
        return bridge

    async def reconnect(self, bridge: FakeBridge) -> None:
        """Point an existing fake bridge (with its memory of sent refs) at the current relay."""
        bridge.relay_url = self.bridge_url
        bridge.token = await self.tenants.issue_bridge_token(bridge.tenant)
        await bridge.connect()
        await self.wait_for(lambda: self.bridges.is_connected(bridge.tenant))

    async def wait_for_outbox_entries(self, slug: str, count: int, timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(await self.pipeline.outbox.waiting(slug)) < count:
            if loop.time() > deadline:
                raise AssertionError(f"the outbox of {slug} never held {count} entries")
            await asyncio.sleep(0.02)

    async def wait_for_outbox_empty(self, slug: str, timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await self.pipeline.outbox.waiting(slug):
            if loop.time() > deadline:
                raise AssertionError(f"the outbox of {slug} did not empty")
            await asyncio.sleep(0.02)

    async def settle(self) -> None:
        """Let the bus deliver everything published so far."""
        await self.bus.drain()

    async def wait_for(self, predicate, timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {predicate}")
            await asyncio.sleep(0.01)

    async def idle(self, timeout: float = 5.0) -> None:
        """Wait until every message so far is handled and no turn is queued or running
        (turns parked for a working key do not count); used to prove nothing is sent."""
        await self.settle()
        await self.wait_for(lambda: self.pipeline.busy() == 0, timeout)
        await self.settle()

    async def close(self) -> None:
        try:
            await self.idle(timeout=2.0)
        except AssertionError:
            pass  # a test that leaves turns parked: stop anyway
        for bridge in self.bridges_fakes:
            await bridge.stop()
        await self.stop()
