"""A fake WhatsApp bridge: the client side of docs/PROTOCOL.md, driven by tests.

It connects to a relay's ``/bridge`` WebSocket like the Node bridge does, keeps every
event frame (``message``, ``send_failed``) until the relay acks it (resending the unacked
ones in order after a reconnect), and answers relay commands by itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
import random
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import aiohttp

from ._loopback import ChangeNotifier

MAX_FRAME = 21 * 1024 * 1024
EXIT_CODES = (4401, 4410)


class BridgeRejected(Exception):
    """The relay refused the connection: HTTP `status` on upgrade, or `close_code` at hello."""

    def __init__(self, message: str, *, status: int | None = None, close_code: int | None = None):
        super().__init__(message)
        self.status, self.close_code = status, close_code


def iso_now(delta: float = 0) -> str:
    """An ISO 8601 UTC timestamp `delta` seconds from now, as PROTOCOL.md wants."""
    return (datetime.now(UTC) + timedelta(seconds=delta)).isoformat().replace("+00:00", "Z")


def jid(chat: str, is_group: bool = False) -> str:
    """A JID from a bare phone/group id (``"549111"`` -> ``"549111@s.whatsapp.net"``)."""
    return chat if "@" in chat else f"{chat}@{'g.us' if is_group else 's.whatsapp.net'}"


class FakeBridge:
    """One tenant's fake bridge; see the module docstring. Use ``async with`` or start/stop."""

    def __init__(self, relay_url: str, tenant: str, token: str, *,
                 state: str = "connected", phone: str | None = "5491155550000",
                 name: str | None = "Fake WhatsApp", bridge_version: str = "fake-bridge/1",
                 auto_result: bool = True, fail_sends: bool = False, echo_sends: bool = True,
                 run_forever: bool = False, pairing_code: str = "K7Q2M9XZ",
                 handshake_timeout: float = 5.0, backoff: tuple[float, float] = (0.05, 0.5),
                 clock: Callable[[], float] = time.time):
        self.relay_url, self.tenant, self.token = relay_url, tenant, token
        self.clock = clock  # unix seconds for the frames' `timestamp` (a test's fake clock)
        self.state, self.phone, self.name, self.reason, self.until = state, phone, name, None, None
        self.bridge_version, self.pairing_code = bridge_version, pairing_code
        self.auto_result, self.fail_sends, self.echo_sends = auto_result, fail_sends, echo_sends
        self.run_forever, self.handshake_timeout, self.backoff = run_forever, handshake_timeout, backoff
        self.changes = ChangeNotifier()
        self.unacked: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.failed_sends: list[dict[str, Any]] = []
        self.send_errors: list[str] = []  # errors to answer the next sends with, one each
        self.lose_results = 0  # how many of the next sends' results are never sent
        self.held_results: list[dict[str, Any]] = []
        self.typing: list[dict[str, Any]] = []
        self.reads: list[dict[str, Any]] = []
        self.deletes: list[dict[str, Any]] = []
        self.pairs: list[dict[str, Any]] = []
        self.acks: list[str] = []
        self.logouts = 0
        self.connections = 0
        self.close_code: int | None = None
        self.shutdown_requested = False
        self.exited = False
        self._results_by_ref: dict[str, dict[str, Any]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task | None = None
        self._forever: asyncio.Task | None = None
        self._stopping = False

    # -- lifecycle -----------------------------------------------------------

    @property
    def connected(self) -> bool:
        """A welcomed connection is open."""
        return self._ws is not None and not self._ws.closed

    async def start(self) -> None:
        """connect(), or with ``run_forever`` start the reconnect loop and await the first welcome."""
        if not self.run_forever:
            await self.connect()
            return
        self._forever = asyncio.create_task(self._reconnect_forever())
        await self.changes.wait_until(lambda: self.connected or self._forever.done(),
                                      self.handshake_timeout, "first welcome")
        if self._forever.done():
            self._forever.result()
            raise BridgeRejected("bridge exited before connecting", close_code=self.close_code)

    async def stop(self) -> None:
        """Close with 1000 (going normal), stop reconnecting and release the HTTP session."""
        self._stopping = True
        if self._forever is not None:
            self._forever.cancel()
            await asyncio.gather(self._forever, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        await self._wait_reader()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def connect(self) -> None:
        """Open the socket, hello -> welcome, then send status and resend every unacked message."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Authorization": f"Bearer {self.token}", "X-Puente-Tenant": self.tenant}
        try:
            ws = await self._session.ws_connect(self.relay_url, headers=headers, heartbeat=20,
                                                max_msg_size=MAX_FRAME)
        except aiohttp.WSServerHandshakeError as exc:
            raise BridgeRejected(f"relay refused the upgrade: HTTP {exc.status}",
                                 status=exc.status) from None
        await ws.send_json({"type": "hello", "protocol": 1, "tenant": self.tenant,
                            "bridge_version": self.bridge_version})
        await self._await_welcome(ws)
        self._ws, self.close_code = ws, None
        self.connections += 1
        self._reader = asyncio.create_task(self._read_loop(ws))
        await self._send(self._status_frame())
        for frame in list(self.unacked.values()):
            await self._send(frame)
        self.changes.changed()

    async def _await_welcome(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            msg = await asyncio.wait_for(ws.receive(), self.handshake_timeout)
        except TimeoutError:
            await ws.close()
            raise BridgeRejected("no welcome from the relay") from None
        if msg.type == aiohttp.WSMsgType.TEXT:
            frame = json.loads(msg.data)
            self._record(frame)
            if frame.get("type") == "welcome":
                return
        self.close_code = ws.close_code
        await ws.close()
        raise BridgeRejected(f"relay closed the handshake with code {ws.close_code}",
                             close_code=ws.close_code)

    async def drop(self) -> None:
        """Cut the TCP connection without a WebSocket close frame, as a crash or network loss."""
        ws = self._ws
        if ws is None:
            return
        conn = getattr(ws, "_conn", None)
        transport = conn.transport if conn is not None else None
        if transport is not None:
            transport.abort()
        else:
            await ws.close(code=1001)
        await self._wait_reader()

    async def reconnect(self) -> None:
        """drop() the live connection, if any, and connect() again."""
        await self.drop()
        await self.connect()

    async def close(self, code: int = 1000) -> None:
        """Close the WebSocket cleanly with `code` (no reconnect unless run_forever)."""
        if self._ws is not None:
            await self._ws.close(code=code)
        await self._wait_reader()

    async def _wait_reader(self) -> None:
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None

    async def _reconnect_forever(self) -> None:
        delay = self.backoff[0]
        while not self._stopping:
            try:
                await self.connect()
                delay = self.backoff[0]
                await self._wait_reader()
            except BridgeRejected as exc:
                if exc.status == 401 or exc.close_code in EXIT_CODES:
                    break
            except (aiohttp.ClientError, OSError, TimeoutError):
                pass
            if self.close_code in EXIT_CODES or self.shutdown_requested:
                break
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.backoff[1])
        self.exited = True
        self.changes.changed()

    # -- bridge -> relay -----------------------------------------------------

    async def send_status(self, state: str, phone: str | None = None, name: str | None = None,
                          reason: str | None = None, until: str | None = None) -> None:
        """The WhatsApp connection changed to `state`; remembered and sent on every reconnect."""
        self.state, self.reason, self.until = state, reason, until
        self.phone, self.name = phone or self.phone, name or self.name
        await self._send(self._status_frame())

    async def send_qr(self, payload: str, expires_in: float = 20) -> None:
        """A new QR payload to show."""
        await self._send({"type": "qr", "qr": payload, "expires_at": iso_now(expires_in)})

    async def send_pairing_code(self, code: str, phone: str, expires_in: float | None = 180) -> None:
        """A pairing code the user types on the phone, usable for `expires_in` seconds."""
        frame = {"type": "pairing_code", "code": code, "phone": phone}
        if expires_in is not None:
            frame["expires_at"] = iso_now(expires_in)
        await self._send(frame)

    async def send_failed(self, message_id: str, chat: str, error: str = "463", ref: str = "") -> str:
        """WhatsApp refused a sent message; kept (and resent on reconnect) until acked. Returns its id."""
        frame = {"type": "send_failed", "id": f"send_failed:{message_id}", "ref": ref, "message_id": message_id,
                 "chat": jid(chat), "error": error, "at": iso_now()}
        self.unacked[frame["id"]] = frame
        if self.connected:
            await self._send(frame)
        return frame["id"]

    async def send_message(self, chat: str, text: str | None, *, from_me: bool = False,
                           sent_by_bridge: bool = False, kind: str = "text", is_group: bool = False,
                           sender: str | None = None, push_name: str | None = None,
                           media: dict[str, Any] | None = None, id: str | None = None,
                           timestamp: int | None = None, media_omitted: str | None = None,
                           backlog: bool = False) -> str:
        """Report a WhatsApp message; kept (and resent on reconnect) until acked. Returns its id."""
        chat_jid = jid(chat, is_group)
        author = sender or (jid(self.phone or "0") if from_me else
                            chat_jid if not is_group else "5491100000001@s.whatsapp.net")
        frame = {"type": "message", "id": id or "FAKE" + secrets.token_hex(8).upper(),
                 "chat": chat_jid, "sender": jid(author), "from_me": from_me,
                 "sent_by_bridge": sent_by_bridge,
                 "timestamp": int(self.clock()) if timestamp is None else timestamp,
                 "is_group": is_group, "kind": kind}
        if author.endswith("@s.whatsapp.net"):
            frame["sender_phone"] = author.split("@")[0]
        for key, value in (("push_name", push_name), ("text", text), ("media", media),
                           ("media_omitted", media_omitted), ("backlog", backlog or None)):
            if value is not None:
                frame[key] = value
        self.unacked[frame["id"]] = frame
        if self.connected:
            await self._send(frame)
        return frame["id"]

    async def send_own_document(self, name: str, data: bytes, caption: str | None = None, *,
                                mime: str | None = None, id: str | None = None) -> str:
        """The owner sends a file to the account's own chat ("Message yourself"): a
        `document` carrying its bytes and `file_name`, as the Node bridge forwards it
        (docs/PROTOCOL.md, `media`). Returns its id."""
        if not self.phone:
            raise ValueError("the fake bridge has no phone: there is no own chat")
        media = {"mime": mime or mimetypes.guess_type(name)[0] or "application/octet-stream",
                 "data_base64": base64.b64encode(data).decode(), "file_name": name}
        return await self.send_message(self.phone, caption, from_me=True, kind="document", media=media, id=id)

    async def raw(self, frame_or_text: dict[str, Any] | str) -> None:
        """Send any frame, or any text (malformed JSON included), as is."""
        if isinstance(frame_or_text, str):
            await self._require_ws().send_str(frame_or_text)
        else:
            await self._require_ws().send_json(frame_or_text)

    async def release_results(self) -> None:
        """With ``auto_result=False``: send the held ``result`` frames now, in order."""
        held, self.held_results = self.held_results, []
        for frame in held:
            await self._send(frame)

    def _status_frame(self) -> dict[str, Any]:
        frame = {"type": "status", "state": self.state, "at": iso_now()}
        if self.state == "connected":
            frame.update(phone=self.phone, name=self.name)
        if self.reason:
            frame["reason"] = self.reason
        if self.until:
            frame["until"] = self.until
        return frame

    def _require_ws(self) -> aiohttp.ClientWebSocketResponse:
        if not self.connected:
            raise ConnectionError("the fake bridge is not connected")
        return self._ws

    async def _send(self, frame: dict[str, Any]) -> None:
        if self.connected:
            try:
                await self._ws.send_json(frame)
            except ConnectionError:
                pass  # the frame is still in `unacked` if it matters

    # -- relay -> bridge -----------------------------------------------------

    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    try:
                        frame = json.loads(msg.data)
                    except ValueError:
                        frame = {"type": None, "raw": msg.data}  # recorded, otherwise ignored
                    self._record(frame)
                    await self._on_frame(frame)
                    if self.shutdown_requested:
                        await ws.close()
        finally:
            self.close_code = ws.close_code if ws.close_code is not None else 1006
            if self._ws is ws:
                self._ws = None
            self.changes.changed()

    def _record(self, frame: dict[str, Any]) -> None:
        self.received.append(frame)
        self.changes.changed()

    async def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ack":
            self.unacked.pop(frame.get("id"), None)
            self.acks.append(frame.get("id"))
        elif kind == "send":
            await self._on_send(frame)
        elif kind == "typing":
            self.typing.append({"chat": frame.get("chat"), "state": frame.get("state")})
        elif kind == "read":
            self.reads.append({"chat": frame.get("chat"), "ids": frame.get("ids")})
        elif kind == "delete":
            self.deletes.append({"chat": frame.get("chat"), "id": frame.get("id"), "ref": frame.get("ref")})
            await self._result(frame["ref"], True)
        elif kind == "pair":
            await self._on_pair(frame)
        elif kind == "logout":
            self.logouts += 1
            await self._result(frame["ref"], True)
            await self.send_status("waiting_qr")
        elif kind == "shutdown":
            self.shutdown_requested = True
            self.state = "stopped"
        self.changes.changed()

    async def _on_send(self, frame: dict[str, Any]) -> None:
        ref = frame["ref"]
        if ref in self._results_by_ref:  # idempotent by ref: answer again, send nothing
            await self._send(self._results_by_ref[ref])
            return
        if self.fail_sends or self.send_errors:
            # Nothing went out and nothing is remembered under the ref, as the Node bridge
            # does for a failed send: the relay may try the same ref again.
            error = self.send_errors.pop(0) if self.send_errors else "send failed (injected by FakeBridge)"
            self.failed_sends.append({"chat": frame.get("chat"), "text": frame.get("text"), "ref": ref,
                                      "error": error})
            await self._result(ref, False, error=error)
            return
        message_id = "3EB0" + secrets.token_hex(8).upper()
        self.sent.append({"chat": frame.get("chat"), "text": frame.get("text"), "ref": ref,
                          "message_id": message_id, "quote_id": frame.get("quote_id")})
        if self.lose_results:  # sent, but the result never reaches the relay (a timeout there)
            self.lose_results -= 1
            self._results_by_ref[ref] = {"type": "result", "ref": ref, "ok": True, "message_id": message_id}
        else:
            self._results_by_ref[ref] = await self._result(ref, True, message_id=message_id)
        if self.echo_sends:
            await self.send_message(frame["chat"], frame.get("text"), from_me=True,
                                    sent_by_bridge=True, id=message_id)

    async def _on_pair(self, frame: dict[str, Any]) -> None:
        self.pairs.append({"phone": frame.get("phone"), "ref": frame.get("ref")})
        await self._result(frame["ref"], True)
        await self.send_pairing_code(self.pairing_code, frame.get("phone"))
        await self.send_status("pairing")

    def forget_send(self, ref: str) -> None:
        """Drop what was sent under `ref`, as a bridge whose send never happened would."""
        self._results_by_ref.pop(ref, None)
        self.sent[:] = [s for s in self.sent if s["ref"] != ref]

    async def _result(self, ref: str, ok: bool, **fields: Any) -> dict[str, Any]:
        result = {"type": "result", "ref": ref, "ok": ok, **fields}
        if self.auto_result:
            await self._send(result)
        else:
            self.held_results.append(result)
        return result

    # -- waiting -------------------------------------------------------------

    async def wait_for_sent(self, predicate: Callable[[dict], Any] | None = None, count: int = 1,
                            timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until `count` sent messages match `predicate`; return the matches."""
        def matches() -> list[dict[str, Any]] | None:
            found = [s for s in self.sent if predicate is None or predicate(s)]
            return found if len(found) >= count else None
        return await self.changes.wait_until(matches, timeout, lambda: (
            f"{count} sent message(s); sent so far: {[s['text'] for s in self.sent]}"))

    async def wait_for_ack(self, message_id: str, timeout: float = 5.0) -> None:
        """Wait until the relay acked `message_id`."""
        await self.changes.wait_until(lambda: message_id in self.acks, timeout,
                                      f"ack of {message_id}")

    async def wait_for_frame(self, type_: str, predicate: Callable[[dict], Any] | None = None,
                             timeout: float = 5.0) -> dict[str, Any]:
        """Wait for a received relay frame of `type_` matching `predicate`; return the latest."""
        def find() -> dict[str, Any] | None:
            found = [f for f in self.received if f.get("type") == type_
                     and (predicate is None or predicate(f))]
            return found[-1] if found else None
        return await self.changes.wait_until(find, timeout, f"a {type_!r} frame")

    async def wait_disconnected(self, timeout: float = 5.0) -> int | None:
        """Wait until the connection is gone; return the close code."""
        await self.changes.wait_until(lambda: not self.connected, timeout, "disconnection")
        return self.close_code

    async def wait_connected(self, timeout: float = 5.0, connections: int = 1) -> None:
        """Wait until a welcomed connection is open and at least `connections` were made."""
        await self.changes.wait_until(
            lambda: self.connected and self.connections >= connections, timeout, "connection")

    async def wait_exited(self, timeout: float = 5.0) -> int | None:
        """With ``run_forever``: wait until the loop gave up (4401/4410/401/shutdown)."""
        await self.changes.wait_until(lambda: self.exited, timeout, "bridge exit")
        return self.close_code
