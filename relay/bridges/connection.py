"""One live WebSocket to one tenant's bridge, seen as a command client.

Like mautrix-signal's signald client: a command carrying `ref` returns an awaitable that
the matching `result` frame resolves; a disconnect fails every pending command with
BridgeNotConnected, and a bridge that never answers fails it with BridgeTimeout.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Protocol

from relay.bridges.errors import BridgeCommandFailed, BridgeNotConnected, BridgeTimeout
from relay.protocol import BridgeConfig, Result, config_frame, encode

log = logging.getLogger("relay.bridge")

DEFAULT_COMMAND_TIMEOUT = 60.0


class FrameSocket(Protocol):
    """What a connection needs of its WebSocket (aiohttp's WebSocketResponse fits)."""

    @property
    def closed(self) -> bool: ...

    async def send_str(self, data: str) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


class BridgeConnection:
    """Commands to one tenant's bridge over its live WebSocket."""

    def __init__(
        self, tenant: str, ws: FrameSocket, *, bridge_version: str = "",
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
    ) -> None:
        self.tenant = tenant
        self.bridge_version = bridge_version
        self._ws = ws
        self._timeout = command_timeout
        self._pending: dict[str, asyncio.Future[Result]] = {}
        self._gone = False
        self._finished = asyncio.Event()
        self.config: BridgeConfig | None = None  # the settings the bridge was last given

    @property
    def closed(self) -> bool:
        """The WebSocket is gone; every command now raises BridgeNotConnected."""
        return self._gone or self._ws.closed

    # --- commands answered by `result` ---------------------------------------------

    async def send_text(self, chat: str, text: str, ref: str, quote_id: str | None = None) -> str:
        """Send a WhatsApp text; returns the sent message's id. Idempotent by `ref`."""
        result = await self._command("send", ref, chat=chat, text=text, quote_id=quote_id)
        return result.message_id or ""

    async def pair(self, phone: str) -> None:
        """Ask for a pairing code for `phone` (digits only); the code comes as a frame."""
        await self._command("pair", _new_ref("pair"), phone=phone)

    async def logout(self) -> None:
        """Unlink the device, wipe the session and start a fresh login."""
        await self._command("logout", _new_ref("logout"))

    async def delete(self, chat: str, message_id: str) -> None:
        """Delete for everyone a message this account sent."""
        await self._command("delete", _new_ref("delete"), chat=chat, id=message_id)

    # --- fire-and-forget frames --------------------------------------------------

    async def typing(self, chat: str, composing: bool) -> None:
        """Show (composing) or clear the typing indicator in `chat`."""
        await self._send(encode("typing", chat=chat, state="composing" if composing else "paused"))

    async def read(self, chat: str, ids: list[str]) -> None:
        """Mark received messages read."""
        await self._send(encode("read", chat=chat, ids=list(ids)))

    async def ack(self, message_id: str) -> None:
        """Tell the bridge the message is durably recorded."""
        await self._send(encode("ack", id=message_id))

    async def configure(self, config: BridgeConfig) -> None:
        """Give the bridge the tenant's changed settings (a `config` frame)."""
        self.config = config  # before sending: a second change meanwhile compares with this one
        await self._send(config_frame(config))

    async def shutdown(self) -> None:
        """Ask the bridge to close WhatsApp cleanly and exit 0."""
        await self._send(encode("shutdown"))

    # --- driven by the endpoint --------------------------------------------------

    def resolve(self, result: Result) -> None:
        """A `result` frame arrived: settle the command waiting on its `ref`."""
        future = self._pending.pop(result.ref, None)
        if future is None:
            log.debug("tenant %s: result for unknown ref %s ignored", self.tenant, result.ref)
        elif not future.done():
            future.set_result(result)

    def disconnected(self) -> None:
        """The socket is gone: fail every pending command with BridgeNotConnected."""
        self._gone = True
        self._finished.set()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(BridgeNotConnected(self.tenant))

    async def wait_finished(self) -> None:
        """Wait until every frame received on this connection was handled and it is gone."""
        await self._finished.wait()

    async def close(self, code: int, reason: str = "") -> None:
        """Close the WebSocket with a protocol close code."""
        self._gone = True
        await self._ws.close(code=code, message=reason.encode()[:120])

    # --- internals ---------------------------------------------------------------

    async def _command(self, kind: str, ref: str, **fields: object) -> Result:
        future = self._pending.get(ref)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._pending[ref] = future
            try:
                await self._send(encode(kind, ref=ref, **fields))
            except BridgeNotConnected:
                self._pending.pop(ref, None)
                raise
        try:
            result = await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except TimeoutError:
            if self._pending.get(ref) is future:
                del self._pending[ref]
            raise BridgeTimeout(self.tenant, kind, self._timeout) from None
        if not result.ok:
            raise BridgeCommandFailed(result.error, kind)
        return result

    async def _send(self, text: str) -> None:
        if self.closed:
            raise BridgeNotConnected(self.tenant)
        try:
            await self._ws.send_str(text)
        except (ConnectionError, RuntimeError):
            raise BridgeNotConnected(self.tenant) from None


def _new_ref(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:16]}"
