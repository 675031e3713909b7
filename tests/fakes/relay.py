"""A fake relay: the server side of docs/PROTOCOL.md at ``/bridge``, for bridge-side tests."""

from __future__ import annotations

import hmac
import itertools
import json
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from ._loopback import LoopbackServer

MAX_FRAME = 21 * 1024 * 1024


class FakeRelay(LoopbackServer):
    """Checks each tenant's bearer token, welcomes, acks messages, records every frame."""

    def __init__(self, tokens: dict[str, str] | None = None, *, auto_ack: bool = True) -> None:
        super().__init__()
        self.tokens = dict(tokens or {})
        self.auto_ack = auto_ack
        self.connections: dict[str, web.WebSocketResponse] = {}
        self.frames: dict[str, list[dict[str, Any]]] = {}
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}  # tenant -> id -> first frame
        self.deliveries: dict[str, list[str]] = {}  # every message id received, repeats included
        self.results: dict[str, dict[str, dict[str, Any]]] = {}  # tenant -> ref -> result frame
        self.rejected = 0
        self.connects: dict[str, int] = {}
        self._refs = itertools.count(1)
        self.app.router.add_get("/bridge", self._bridge)

    @property
    def ws_url(self) -> str:
        """The URL a bridge connects to (``PUENTE_RELAY_URL``)."""
        return self.url.replace("http://", "ws://") + "/bridge"

    def add_tenant(self, tenant: str, token: str) -> None:
        """Accept bridges of `tenant` presenting `token`."""
        self.tokens[tenant] = token

    def is_connected(self, tenant: str) -> bool:
        """A welcomed bridge of `tenant` is connected."""
        ws = self.connections.get(tenant)
        return ws is not None and not ws.closed

    def statuses(self, tenant: str) -> list[dict[str, Any]]:
        """Every ``status`` frame the tenant's bridge sent, in order."""
        return [f for f in self.frames.get(tenant, []) if f.get("type") == "status"]

    # -- relay -> bridge -----------------------------------------------------

    async def send_command(self, tenant: str, frame: dict[str, Any]) -> None:
        """Send any frame to the tenant's live bridge."""
        ws = self.connections.get(tenant)
        if ws is None or ws.closed:
            raise ConnectionError(f"no bridge connected for {tenant!r}")
        await ws.send_json(frame)

    async def command(self, tenant: str, frame: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Send a command (a ``ref`` is added if missing) and wait for its ``result`` frame."""
        frame = {"ref": f"r{next(self._refs)}", **frame}
        await self.send_command(tenant, frame)
        return await self.changes.wait_until(
            lambda: self.results.get(tenant, {}).get(frame["ref"]), timeout,
            f"result of {frame['type']} {frame['ref']}")

    async def ack(self, tenant: str, message_id: str) -> None:
        """Ack a message by hand (when ``auto_ack`` is off)."""
        await self.send_command(tenant, {"type": "ack", "id": message_id})

    async def close_tenant(self, tenant: str, code: int = 4410) -> None:
        """Close the tenant's bridge connection with `code` (4410: deleted, 4401: bad token)."""
        ws = self.connections.get(tenant)
        if ws is not None:
            await ws.close(code=code, message=b"closed by FakeRelay")

    # -- waiting -------------------------------------------------------------

    async def wait_connected(self, tenant: str, timeout: float = 5.0, connects: int = 1) -> None:
        """Wait until `tenant` has a live connection and at least `connects` were welcomed."""
        await self.changes.wait_until(
            lambda: self.is_connected(tenant) and self.connects.get(tenant, 0) >= connects,
            timeout, f"bridge of {tenant!r} connected")

    async def wait_for_message(self, tenant: str, predicate: Callable[[dict], Any] | None = None,
                               timeout: float = 5.0) -> dict[str, Any]:
        """Wait for a (deduplicated) message frame from `tenant` matching `predicate`."""
        def find() -> dict[str, Any] | None:
            found = [m for m in self.messages.get(tenant, {}).values()
                     if predicate is None or predicate(m)]
            return found[-1] if found else None
        return await self.changes.wait_until(find, timeout, f"message from {tenant!r}")

    async def wait_for_frame(self, tenant: str, type_: str,
                             predicate: Callable[[dict], Any] | None = None,
                             timeout: float = 5.0) -> dict[str, Any]:
        """Wait for a frame of `type_` from `tenant` matching `predicate`; return the latest."""
        def find() -> dict[str, Any] | None:
            found = [f for f in self.frames.get(tenant, []) if f.get("type") == type_
                     and (predicate is None or predicate(f))]
            return found[-1] if found else None
        return await self.changes.wait_until(find, timeout, f"{type_!r} frame from {tenant!r}")

    async def wait_deliveries(self, tenant: str, message_id: str, count: int, timeout: float = 5.0) -> None:
        """Wait until `message_id` arrived `count` times (at-least-once resends included)."""
        await self.changes.wait_until(
            lambda: self.deliveries.get(tenant, []).count(message_id) >= count, timeout,
            f"{count} deliveries of {message_id}")

    # -- server --------------------------------------------------------------

    def _authorized(self, request: web.Request) -> str | None:
        tenant = request.headers.get("X-Puente-Tenant", "")
        given = request.headers.get("Authorization", "").encode()
        expected = f"Bearer {self.tokens.get(tenant, '')}".encode()
        valid = hmac.compare_digest(given, expected) and tenant in self.tokens
        return tenant if valid else None

    async def _bridge(self, request: web.Request) -> web.StreamResponse:
        tenant = self._authorized(request)
        if tenant is None:
            self.rejected += 1
            self.changes.changed()
            return web.Response(status=401, text="unauthorized")
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        try:
            await self._serve(tenant, ws)
        finally:
            if self.connections.get(tenant) is ws:
                del self.connections[tenant]
            self.changes.changed()
        return ws

    async def _serve(self, tenant: str, ws: web.WebSocketResponse) -> None:
        welcomed = False
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(msg.data)
                if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                    raise ValueError("not a frame")
            except ValueError:
                await ws.close(code=4400, message=b"malformed frame")
                return
            self.frames.setdefault(tenant, []).append(frame)
            if not welcomed:
                if frame["type"] != "hello" or frame.get("protocol") != 1:
                    await ws.close(code=4400, message=b"expected hello")
                    return
                welcomed = True
                await self._welcome(tenant, ws)
            else:
                await self._on_frame(tenant, ws, frame)
            self.changes.changed()

    async def _welcome(self, tenant: str, ws: web.WebSocketResponse) -> None:
        old = self.connections.get(tenant)
        self.connections[tenant] = ws
        if old is not None and not old.closed:
            await old.close(code=4409, message=b"replaced by a newer connection")
        await ws.send_json({"type": "welcome", "protocol": 1})
        self.connects[tenant] = self.connects.get(tenant, 0) + 1

    async def _on_frame(self, tenant: str, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        if frame["type"] == "message":
            self.deliveries.setdefault(tenant, []).append(frame["id"])
            self.messages.setdefault(tenant, {}).setdefault(frame["id"], frame)
            if self.auto_ack:
                await ws.send_json({"type": "ack", "id": frame["id"]})
        elif frame["type"] == "result":
            self.results.setdefault(tenant, {})[frame["ref"]] = frame

    async def _on_stop(self) -> None:
        for ws in list(self.connections.values()):
            await ws.close(code=1001, message=b"relay stopping")
