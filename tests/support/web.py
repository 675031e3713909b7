"""A running relay for the landing-page tests: the real bridge endpoint, states, login,
stats, landing pages and ops endpoints on one loopback HTTP server.

Fake bridges connect to its real /bridge WebSocket, so a state a test pushes travels
the same road as in production: bridge -> endpoint -> WhatsAppStates -> bus -> page.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import aiohttp

from core.bus import EventBus
from core.clock import Clock
from core.events import WhatsAppState
from core.metrics import Metrics
from core.settings import Settings
from core.store import Store
from relay.bridges.endpoint import BridgeEndpoint
from relay.bridges.login import WhatsAppLogin
from relay.bridges.registry import Bridges
from relay.bridges.states import WhatsAppStates
from relay.bridges.supervisor import BridgeSupervisor
from relay.stats import Stats
from tenants.audit import open_audit_log
from tenants.model import Tenant
from tenants.repository import open_tenants
from tenants.secrets import SecretBox
from tenants.service import NewTenant, TenantService
from tests.fakes.bridge import FakeBridge
from web.landing import LandingPages
from web.ops import OpsEndpoints
from web.server import HttpServer

SECRET_KEY = "x9YbqKkD5mJ8tWq2V3c7N1pL6rT0sA4eF8gH2jK5mN0="
TENANT_KEY = "sk-test-landing-0123456789abcdef"
FORM_TOKEN_RE = re.compile(r'name="form_token" value="([0-9a-f]+)"')


class LandingRig:
    """Everything the landing page needs, real, on 127.0.0.1 at a free port."""

    def __init__(self, store: Store, clock: Clock, *, bot_polling: bool = True, pairing_timeout: float = 5.0,
                 settings: dict[str, Any] | None = None, **pages: Any) -> None:
        self.store = store
        self.clock = clock
        self.bot_polling = bot_polling
        self.bus = EventBus()
        self.metrics = Metrics()
        self.http = HttpServer("127.0.0.1", 0)
        self.settings = Settings(**{"public_url": "http://127.0.0.1:8080", "bridge_command": "", "_env_file": None,
                                    **(settings or {})})
        repo = open_tenants(store.db)
        self._indexed = [repo, open_audit_log(store.db, clock)]
        self.tenants = TenantService(repo, self._indexed[1], SecretBox(SECRET_KEY), clock, self.bus.publish, "gpt-4.1-mini")
        self.bridges = Bridges()
        self.states = WhatsAppStates(self.tenants, self.bus, clock, self.metrics)
        self.endpoint = BridgeEndpoint(self.http.app, self.tenants, self.bridges, self.states, self.bus)
        supervisor = BridgeSupervisor(
            self.settings, self.tenants, self.bridges, self.states, self.bus, self.metrics, lambda: self.bridge_url
        )
        self.login = WhatsAppLogin(
            self.tenants, supervisor, self.bridges, self.states, pairing_timeout=pairing_timeout, connect_timeout=2.0
        )
        self.stats = Stats(store.db, clock)
        self._indexed += self.stats.repositories
        self.pages = LandingPages(self.settings, self.tenants, self.states, self.login, self.stats, self.bus, clock,
                                  **pages)
        self.ops = OpsEndpoints(store, self.metrics, lambda: self.bot_polling)
        self.ops_http = HttpServer("127.0.0.1", 0)
        self.pages.install(self.http.app)
        self.ops.install_public(self.http.app)
        self.ops.install(self.ops_http.app)
        self._fake_bridges: list[FakeBridge] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}"

    @property
    def ops_url(self) -> str:
        """The operations listener (/healthz, /readyz, /metrics)."""
        return f"http://127.0.0.1:{self.ops_http.port}"

    @property
    def bridge_url(self) -> str:
        return f"ws://127.0.0.1:{self.http.port}/bridge"

    async def start(self) -> None:
        for repo in self._indexed:
            await repo.ensure_indexes()
        await self.states.start()
        await self.bus.start()
        await self.endpoint.start()
        await self.pages.start()
        await self.http.start()
        await self.ops_http.start()

    async def stop(self) -> None:
        for bridge in self._fake_bridges:
            await bridge.stop()
        await self.pages.stop()
        await self.endpoint.stop()
        await self.ops_http.stop()
        await self.http.stop()
        await self.bus.stop()

    async def __aenter__(self) -> LandingRig:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- tenants and bridges ------------------------------------------------------

    async def new_tenant(self, name: str = "Panadería Sol", slug: str = "panaderia-sol", **fields: Any) -> Tenant:
        tenant = await self.tenants.create(
            NewTenant(slug=slug, name=name, openai_key=TENANT_KEY, email=fields.pop("email", None)), "test"
        )
        if "description" in fields:
            described = await self.tenants.set_description(slug, fields.pop("description"), "test")
            tenant = described.with_changes(landing_token=tenant.landing_token)  # known only when issued
        return tenant

    async def bridge_for(self, tenant: Tenant, **kwargs: Any) -> FakeBridge:
        """A fake bridge of `tenant`, connected to the relay's real /bridge endpoint."""
        token = await self.tenants.issue_bridge_token(tenant.slug)
        self.bridge_token = token
        bridge = FakeBridge(self.bridge_url, tenant.slug, token, **kwargs)
        self._fake_bridges.append(bridge)
        await bridge.start()
        return bridge

    async def wait_state(self, tenant: Tenant, predicate: Callable[[WhatsAppState], object], timeout: float = 5.0) -> WhatsAppState:
        """Wait until the relay knows a state of `tenant` matching `predicate`."""
        state = await self.states.wait_for(tenant.slug, predicate, timeout)
        await self.bus.drain()
        return state

    def page_url(self, tenant: Tenant) -> str:
        return f"{self.url}/c/{tenant.landing_token}"


async def fetch(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, str, Any]:
    """GET `url`: status, body text and headers."""
    async with session.get(url, allow_redirects=False, **kwargs) as response:
        return response.status, await response.text(), response.headers


async def post_form(session: aiohttp.ClientSession, url: str, data: dict[str, str], **kwargs: Any) -> tuple[int, str, Any]:
    """POST a form like the page's: status, body text and headers."""
    async with session.post(url, data=data, allow_redirects=False, **kwargs) as response:
        return response.status, await response.text(), response.headers


def form_token(page_html: str) -> str:
    """The CSRF token embedded in a landing page's forms."""
    match = FORM_TOKEN_RE.search(page_html)
    assert match, "the page has no form"
    return match.group(1)


async def read_sse_event(response: aiohttp.ClientResponse, name: str, timeout: float = 5.0) -> str:
    """Read Server-Sent Events from `response` until one named `name`; return its data."""
    async def read() -> str:
        event, data = None, []
        while True:
            line = (await response.content.readline()).decode().rstrip("\r\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
            elif line == "":
                if event == name:
                    return "\n".join(data)
                event, data = None, []

    return await asyncio.wait_for(read(), timeout)
