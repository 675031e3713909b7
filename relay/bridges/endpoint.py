"""GET /bridge: where every tenant's bridge connects (docs/PROTOCOL.md).

Credentials are checked before the upgrade (HTTP 401; 429 unchecked for an address with
too many failures, see FailedLogins), `hello` must be the first frame,
one connection per tenant lives at a time, and every later frame is parsed into a typed
frame and handed on: states to WhatsAppStates, messages and refused sends to the bus,
results to the connection waiting on them. A bad frame costs one parse and closes that
connection only. The bridge gets the tenant's settings it acts on (calls, group media) in
`welcome`, and again in a `config` frame whenever they change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network

from aiohttp import WSMsgType, web

from core.bus import EventBus
from core.client_address import client_address
from core.clock import Clock, SystemClock
from core.events import BridgeConnected, BridgeDisconnected, TenantDeleted, TenantDisabled, TenantUpdated
from core.tasks import cancel, spawn
from relay.bridges.connection import DEFAULT_COMMAND_TIMEOUT, BridgeConnection
from relay.bridges.errors import BridgeError
from relay.bridges.events import MessageReceived, SendRejected
from relay.bridges.failed_logins import FailedLogins
from relay.bridges.registry import Bridges
from relay.bridges.states import WhatsAppStates
from relay.protocol import (
    MAX_FRAME_BYTES,
    PROTOCOL_VERSION,
    BridgeConfig,
    Hello,
    Message,
    PairingCode,
    ProtocolError,
    Qr,
    Result,
    SendFailed,
    Status,
    UnknownFrame,
    parse_frame,
    welcome_frame,
)
from tenants.model import TenantSettings
from tenants.service import TenantService
from tenants.validation import SLUG_RE

log = logging.getLogger("relay.bridge")

CLOSE_GOING_AWAY = 1001
CLOSE_INTERNAL_ERROR = 1011
CLOSE_PROTOCOL_ERROR = 4400
CLOSE_REPLACED = 4409
CLOSE_TENANT_GONE = 4410
_MAX_TOKEN_LENGTH = 512
_UNKNOWN_LOGGED = 5  # per connection; a flood of unknown frames costs no more log lines


class BridgeEndpoint:
    """The bridges' WebSocket endpoint on the main HTTP server."""

    PATH = "/bridge"

    def __init__(
        self, app: web.Application, tenants: TenantService, bridges: Bridges, states: WhatsAppStates,
        bus: EventBus, *, heartbeat: float = 20.0, silence: float = 60.0, hello_timeout: float = 10.0,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT, clock: Clock | None = None,
        trusted_proxies: Sequence[IPv4Network | IPv6Network] = (), failures_per_window: int = 10,
        failure_window: float = 60.0,
    ) -> None:
        self._tenants = tenants
        self._bridges = bridges
        self._states = states
        self._bus = bus
        self._heartbeat = heartbeat
        self._silence = silence
        self._hello_timeout = hello_timeout
        self._command_timeout = command_timeout
        self._trusted_proxies = tuple(trusted_proxies)
        self.failed_logins = FailedLogins(clock or SystemClock(), limit=failures_per_window, window=failure_window)
        self._sweeper: asyncio.Task[None] | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._subscribed = False
        app.router.add_get(self.PATH, self.handle)
        app.on_shutdown.append(self._on_app_shutdown)

    async def start(self) -> None:
        """Follow tenant events: a disabled or deleted tenant's bridge is closed with 4410, a
        changed tenant's bridge gets its settings."""
        if not self._subscribed:
            self._bus.subscribe("bridge-endpoint", self._on_tenant_gone, TenantDisabled, TenantDeleted)
            self._bus.subscribe("bridge-config", self._on_tenant_updated, TenantUpdated)
            self._subscribed = True
        if self._sweeper is None:
            self._sweeper = spawn(self._sweep_failed_logins(), name="bridge-failed-logins")

    async def stop(self) -> None:
        """Close every bridge connection (they reconnect to the next relay)."""
        await cancel(self._sweeper)
        self._sweeper = None
        self.failed_logins.sweep(final=True)
        await self._close_all()

    async def _sweep_failed_logins(self) -> None:
        """Summaries of failed logins come out within a quarter window of it, even once they stop."""
        while True:
            await asyncio.sleep(self.failed_logins.window / 4)
            self.failed_logins.sweep()

    # --- the request -------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One bridge connection from upgrade to close."""
        address = client_address(request, self._trusted_proxies)
        if self.failed_logins.limited(address):
            # Unchecked, a correct token included: checking would hand a guesser back the
            # rate the limit takes away. A bridge retries by itself once the window passes.
            return web.Response(status=429, text="too many failed bridge logins from this address\n",
                                headers={"Retry-After": f"{self.failed_logins.window:.0f}"})
        slug = await self._authenticate(request, address)
        if slug is None:
            return web.Response(status=401, text="bad bridge credentials\n", headers={"WWW-Authenticate": "Bearer"})
        ws = web.WebSocketResponse(heartbeat=self._heartbeat, max_msg_size=MAX_FRAME_BYTES)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="a WebSocket upgrade is expected here\n")
        _allow_silence(ws, self._silence - self._heartbeat)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            conn = await self._handshake(slug, ws)
            if conn is not None:
                await self._serve(conn, ws)
        except Exception:
            log.exception("bridge of tenant %s: connection failed", slug)
            await ws.close(code=CLOSE_INTERNAL_ERROR, message=b"relay error")
        finally:
            self._sockets.discard(ws)
        return ws

    async def _authenticate(self, request: web.Request, address: str) -> str | None:
        """The tenant's slug if the bearer token is its current bridge token."""
        slug = request.headers.get("X-Puente-Tenant", "").strip()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        # Cheap refusals first: a flood of garbage never reaches the store.
        if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH or not SLUG_RE.fullmatch(slug):
            self.failed_logins.failed(address, "missing or malformed credentials")
            return None
        if await self._tenants.verify_bridge_token(slug, token) is None:
            self.failed_logins.failed(address, f"tenant {slug}: wrong token or unknown tenant")
            return None
        return slug

    async def _handshake(self, slug: str, ws: web.WebSocketResponse) -> BridgeConnection | None:
        """hello -> welcome; the new connection replaces an older one of the tenant."""
        hello = await self._read_hello(slug, ws)
        if hello is None:
            return None
        tenant = await self._tenants.find(slug)
        if tenant is None or not tenant.enabled:
            log.info("bridge of tenant %s refused: the tenant is %s", slug, "deleted" if tenant is None else "disabled")
            await ws.close(code=CLOSE_TENANT_GONE, message=b"tenant deleted or disabled")
            return None
        conn = BridgeConnection(slug, ws, bridge_version=hello.bridge_version, command_timeout=self._command_timeout)
        conn.config = bridge_config(tenant.settings)
        await ws.send_str(welcome_frame(conn.config))
        previous = self._bridges.attach(conn)
        if previous is not None:
            log.info("bridge of tenant %s replaced by a newer connection", slug)
            spawn(previous.close(CLOSE_REPLACED, "replaced by a newer connection"), name=f"bridge-replace:{slug}")
        log.info("bridge of tenant %s connected (%s)", slug, hello.bridge_version or "unknown version")
        self._bus.publish(BridgeConnected(slug))
        # Settings changed between the read above and the attach found no connection to send to.
        await self._send_config(conn)
        return conn

    async def _read_hello(self, slug: str, ws: web.WebSocketResponse) -> Hello | None:
        try:
            msg = await ws.receive(timeout=self._hello_timeout)
        except TimeoutError:
            return await self._refuse(slug, ws, "no hello frame in time")
        if msg.type != WSMsgType.TEXT:
            return await self._refuse(slug, ws, "the first frame must be a hello text frame")
        try:
            frame = parse_frame(msg.data)
        except (ProtocolError, UnknownFrame) as exc:
            return await self._refuse(slug, ws, f"the first frame must be hello ({exc})")
        if not isinstance(frame, Hello):
            return await self._refuse(slug, ws, f"the first frame must be hello, not {frame.type}")
        if frame.protocol != PROTOCOL_VERSION:
            return await self._refuse(slug, ws, f"protocol {frame.protocol} is not supported (this relay speaks 1)")
        if frame.tenant != slug:
            return await self._refuse(slug, ws, "hello names another tenant than the credentials")
        return frame

    async def _refuse(self, slug: str, ws: web.WebSocketResponse, why: str) -> None:
        log.warning("bridge of tenant %s: protocol error, closing with 4400: %s", slug, why)
        await ws.close(code=CLOSE_PROTOCOL_ERROR, message=why.encode()[:120])

    # --- the frames after the handshake ------------------------------------------

    async def _serve(self, conn: BridgeConnection, ws: web.WebSocketResponse) -> None:
        unknown = 0
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        frame = parse_frame(msg.data)
                    except UnknownFrame as exc:
                        unknown += 1
                        if unknown <= _UNKNOWN_LOGGED:
                            log.warning("bridge of tenant %s: unknown frame type %r ignored", conn.tenant, str(exc))
                        continue
                    except ProtocolError as exc:
                        log.warning("bridge of tenant %s: protocol error, closing with 4400: %s", conn.tenant, exc)
                        await conn.close(CLOSE_PROTOCOL_ERROR, "protocol error")
                        break
                    await self._dispatch(conn, frame)
                elif msg.type == WSMsgType.BINARY:
                    log.warning("bridge of tenant %s: binary frame, closing with 4400", conn.tenant)
                    await conn.close(CLOSE_PROTOCOL_ERROR, "text frames only")
                    break
                elif msg.type == WSMsgType.ERROR:
                    log.warning("bridge of tenant %s: connection error: %s", conn.tenant, ws.exception())
        finally:
            conn.disconnected()
            if self._bridges.detach(conn):
                self._bus.publish(BridgeDisconnected(conn.tenant))
            log.info("bridge of tenant %s disconnected (close code %s)", conn.tenant, ws.close_code)

    async def _dispatch(self, conn: BridgeConnection, frame: object) -> None:
        """Hand one typed frame on; a failure here is logged and the connection lives on."""
        slug = conn.tenant
        try:
            if isinstance(frame, Message):
                self._bus.publish(MessageReceived(slug, frame))
            elif isinstance(frame, SendFailed):
                self._bus.publish(SendRejected(slug, frame))
            elif isinstance(frame, Result):
                conn.resolve(frame)
            elif isinstance(frame, Status):
                await self._states.on_status(slug, frame)
            elif isinstance(frame, Qr):
                await self._states.on_qr(slug, frame)
            elif isinstance(frame, PairingCode):
                await self._states.on_pairing_code(slug, frame)
            elif isinstance(frame, Hello):
                log.warning("bridge of tenant %s: repeated hello ignored", slug)
        except Exception:
            log.exception("bridge of tenant %s: handling a %s frame failed", slug, type(frame).__name__)

    # --- the tenant's settings -----------------------------------------------------

    async def _on_tenant_updated(self, event: TenantUpdated) -> None:
        conn = self._bridges.connection(event.tenant)
        if conn is not None:
            await self._send_config(conn)

    async def _send_config(self, conn: BridgeConnection) -> None:
        """The tenant's settings for the bridge, when they differ from what it was last given."""
        tenant = await self._tenants.find(conn.tenant)
        if tenant is None:
            return
        config = bridge_config(tenant.settings)
        if config == conn.config:
            return  # most tenant changes (attention, suspension, the model) are none of the bridge's
        try:
            await conn.configure(config)
        except BridgeError as exc:
            # The next connection's welcome carries the settings.
            log.info("bridge of tenant %s: settings not sent (%s)", conn.tenant, exc)
            return
        log.info("bridge of tenant %s: settings sent (groups %s, reject calls %s)", conn.tenant,
                 config.groups, config.reject_calls)

    # --- closing -----------------------------------------------------------------

    async def _on_tenant_gone(self, event: TenantDisabled | TenantDeleted) -> None:
        conn = self._bridges.connection(event.tenant)
        if conn is None:
            return
        try:
            await conn.shutdown()
        except BridgeError:
            pass
        log.info("bridge of tenant %s closed with 4410: the tenant was %s", event.tenant,
                 "deleted" if isinstance(event, TenantDeleted) else "disabled")
        await conn.close(CLOSE_TENANT_GONE, "tenant deleted or disabled")

    async def _on_app_shutdown(self, app: web.Application) -> None:
        await self._close_all()

    async def _close_all(self) -> None:
        sockets = [ws for ws in self._sockets if not ws.closed]
        await asyncio.gather(
            *(ws.close(code=CLOSE_GOING_AWAY, message=b"relay shutting down") for ws in sockets),
            return_exceptions=True,
        )


def bridge_config(settings: TenantSettings) -> BridgeConfig:
    """What of a tenant's settings its bridge acts on (docs/PROTOCOL.md, `config`)."""
    return BridgeConfig(groups=settings.groups_enabled, reject_calls=settings.reject_calls,
                        call_message=settings.call_message)


def _allow_silence(ws: web.WebSocketResponse, pong_wait: float) -> None:
    """Let a peer stay silent for heartbeat + pong_wait seconds (aiohttp waits heartbeat/2)."""
    # aiohttp has no public knob for the pong wait; docs/PROTOCOL.md gives a peer 60 s.
    if pong_wait > 0 and hasattr(ws, "_pong_heartbeat"):
        ws._pong_heartbeat = pong_wait
