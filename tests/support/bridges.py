"""The relay side of the bridge protocol, assembled for tests: a real HTTP server with
the /bridge endpoint, the registry, WhatsApp states and (optionally) the supervisor,
on a real store, with every bus event recorded."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from core.bus import EventBus
from core.metrics import Metrics
from core.settings import Settings
from relay.bridges.endpoint import BridgeEndpoint
from relay.bridges.login import WhatsAppLogin
from relay.bridges.registry import Bridges
from relay.bridges.restarts import RestartPolicy
from relay.bridges.states import WhatsAppStates
from relay.bridges.supervisor import BridgeSupervisor
from tenants.audit import open_audit_log
from tenants.repository import open_tenants
from tenants.secrets import SecretBox
from tenants.service import NewTenant, TenantService
from tests.fakes._loopback import ChangeNotifier
from web.server import HttpServer

TEST_SECRET_KEY = "x9YbqKkD5mJ8tWq2V3c7N1pL6rT0sA4eF8gH2jK5mN0="
REPO_ROOT = Path(__file__).resolve().parents[2]
PROCESS_BRIDGE = f"{sys.executable} -m tests.support.bridge_process"
FAST_RESTARTS = RestartPolicy(first_delay=0.05, max_delay=0.2, reset_after=300.0, loop_crashes=5, loop_window=300.0)


class EventLog:
    """Every event published on the bus, in order, with waiting helpers."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Any] = []
        self.changes = ChangeNotifier()
        bus.subscribe("test-event-log", self._record, object)

    async def _record(self, event: Any) -> None:
        self.events.append(event)
        self.changes.changed()

    def of(self, event_type: type, /, **fields: Any) -> list[Any]:
        """The recorded events of `event_type` whose attributes equal `fields`."""
        return [e for e in self.events if isinstance(e, event_type) and all(getattr(e, k) == v for k, v in fields.items())]

    async def wait_for(self, event_type: type, predicate: Callable[[Any], Any] | None = None, /,
                       timeout: float = 5.0, **fields: Any) -> Any:
        """The first recorded event of `event_type` matching `fields` and `predicate`."""
        def find() -> Any:
            found = [e for e in self.of(event_type, **fields) if predicate is None or predicate(e)]
            return found[0] if found else None
        return await self.changes.wait_until(find, timeout, f"a {event_type.__name__} {fields}")


class RelaySide:
    """Endpoint + registry + states (+ supervisor and login) on a loopback HTTP server."""

    def __init__(self, store, clock, data_dir: Path, *, command_timeout: float = 3.0, bridge_command: str = "",
                 policy: RestartPolicy = FAST_RESTARTS, shutdown_grace: float = 2.0, kill_grace: float = 2.0,
                 supervisor_clock=None) -> None:
        self.clock = clock
        self.bus = EventBus()
        self.events = EventLog(self.bus)
        self.published: list[Any] = []
        self._repositories = [open_tenants(store.db), open_audit_log(store.db, clock)]
        self.tenants = TenantService(
            *self._repositories, SecretBox(TEST_SECRET_KEY), clock,
            self._publish, "gpt-4.1-mini",
        )
        self.metrics = Metrics()
        self.bridges = Bridges()
        self.states = WhatsAppStates(self.tenants, self.bus, clock, self.metrics)
        self.http = HttpServer("127.0.0.1", 0)
        self.endpoint = BridgeEndpoint(self.http.app, self.tenants, self.bridges, self.states, self.bus,
                                       command_timeout=command_timeout)
        # The process bridges find their record directory through the one name let through.
        self.settings = Settings(data_dir=data_dir, bridge_command=bridge_command, log_level="debug",
                                 bridge_env_allow=("FAKE_BRIDGE_RECORD_DIR",), _env_file=None)
        self.supervisor = BridgeSupervisor(
            self.settings, self.tenants, self.bridges, self.states, self.bus, self.metrics, lambda: self.url,
            clock=supervisor_clock, policy=policy, shutdown_grace=shutdown_grace, kill_grace=kill_grace,
        )
        self.login = WhatsAppLogin(self.tenants, self.supervisor, self.bridges, self.states,
                                   pairing_timeout=5.0, connect_timeout=10.0)
        self._started: list[Any] = []

    def _publish(self, event: object) -> None:
        self.published.append(event)
        self.bus.publish(event)

    @property
    def url(self) -> str:
        """The bridge endpoint's WebSocket URL."""
        return f"ws://127.0.0.1:{self.http.port}/bridge"

    async def start(self, *, supervise: bool = False) -> RelaySide:
        """Start in the composition root's order (the supervisor last, once the port is known)."""
        for repo in self._repositories:
            await repo.ensure_indexes()
        components = [self.bus, self.states, self.endpoint, self.http] + ([self.supervisor] if supervise else [])
        for component in components:
            await component.start()
            self._started.append(component)
        return self

    async def stop(self) -> None:
        """Stop newest first."""
        while self._started:
            await self._started.pop().stop()

    async def add_tenant(self, slug: str, *, enabled: bool = True, name: str = "Tienda") -> str | None:
        """Create a tenant; a fresh bridge token for it, unless the supervisor issues them."""
        await self.tenants.create(NewTenant(slug, name, "sk-test-" + "a" * 24), "test")
        if not enabled:
            await self.tenants.set_enabled(slug, False, "test")
        if self.supervisor in self._started:
            return None
        return await self.tenants.issue_bridge_token(slug)


async def connect_raw(url: str, tenant: str | None, token: str | None) -> tuple[aiohttp.ClientSession, Any]:
    """A bare WebSocket to the endpoint with the given credentials (None leaves a header out)."""
    headers = {}
    if tenant is not None:
        headers["X-Puente-Tenant"] = tenant
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    session = aiohttp.ClientSession()
    try:
        ws = await session.ws_connect(url, headers=headers)
    except BaseException:
        await session.close()
        raise
    return session, ws


async def next_close_code(ws: Any, timeout: float = 5.0) -> int | None:
    """Read until the server closes; the close code."""
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return ws.close_code


def hello(tenant: str, protocol: int = 1) -> str:
    """A hello frame."""
    return json.dumps({"type": "hello", "protocol": protocol, "tenant": tenant, "bridge_version": "raw-test"})


# --- the process bridge's record (see tests/support/bridge_process.py) --------------


def set_mode(record_dir: Path, tenant: str, mode: str) -> None:
    """How the next process bridge of `tenant` behaves."""
    record_dir.mkdir(parents=True, exist_ok=True)
    (record_dir / f"{tenant}.mode").write_text(mode)


def records(record_dir: Path, tenant: str) -> list[dict[str, Any]]:
    """What the tenant's process bridges recorded, in order."""
    path = record_dir / f"{tenant}.events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

