"""The bridge protocol (docs/PROTOCOL.md, version 1) as typed frames.

Raw JSON becomes one of these small objects at the edge; nothing past the bridge
connection touches a raw dict.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 20 * 1024 * 1024

WhatsAppStateName = Literal[
    "starting", "waiting_qr", "pairing", "connected", "reconnecting", "logged_out", "banned", "stopped"
]
MessageKind = Literal["text", "audio", "image", "video", "document", "sticker", "location", "contact", "other"]
DEFAULT_CALL_MESSAGE = "No puedo atender llamadas, escríbeme por aquí"


class ProtocolError(Exception):
    """A frame that breaks the protocol (the connection closes with 4400)."""


class UnknownFrame(Exception):
    """A well-formed frame of a type this version does not know (logged and ignored)."""


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Hello(_Frame):
    """First frame of every connection."""

    type: Literal["hello"]
    protocol: int
    tenant: str
    bridge_version: str = ""


class Status(_Frame):
    """The WhatsApp connection changed."""

    type: Literal["status"]
    state: WhatsAppStateName
    phone: str | None = None
    name: str | None = None
    reason: str | None = None
    until: datetime | None = None  # when a temporary ban ends (`banned`, `temporarily_banned`)
    at: datetime


class Qr(_Frame):
    """A new QR payload to show."""

    type: Literal["qr"]
    qr: str = Field(min_length=1)
    expires_at: datetime


class PairingCode(_Frame):
    """The code the user types on the phone."""

    type: Literal["pairing_code"]
    code: str = Field(min_length=1)
    phone: str
    expires_at: datetime | None = None


class Media(_Frame):
    """Audio, image or own-chat document content carried inline."""

    mime: str
    data_base64: str
    seconds: float | None = None
    file_name: str | None = None  # documents the owner sends to their own chat (docs/PROTOCOL.md)


class Message(_Frame):
    """A WhatsApp message received or sent on the account."""

    type: Literal["message"]
    id: str = Field(min_length=1)
    chat: str = Field(min_length=1)
    sender: str = ""
    sender_phone: str | None = None
    from_me: bool = False
    sent_by_bridge: bool = False
    push_name: str | None = None
    timestamp: int = 0
    is_group: bool = False
    kind: MessageKind = "other"
    text: str | None = None
    media: Media | None = None
    # Why an audio or image came without `media`: too_large, download_failed,
    # download_timeout, groups_off (a string, so a reason added later still parses).
    media_omitted: str | None = None
    backlog: bool = False  # delivered late from WhatsApp's offline queue; `timestamp` is when written

    def written_at(self, now: datetime) -> datetime:
        """When the message was written, by its own timestamp, never later than `now` (a
        phone's clock may run fast); `now` when the bridge gave no timestamp."""
        if self.timestamp <= 0:
            return now
        return min(datetime.fromtimestamp(self.timestamp, UTC), now)


class Result(_Frame):
    """The outcome of a relay command carrying `ref`."""

    type: Literal["result"]
    ref: str
    ok: bool
    message_id: str | None = None
    error: str | None = None


class SendFailed(_Frame):
    """WhatsApp refused a message after `send` had answered ok: true (an event frame, acked by `id`)."""

    type: Literal["send_failed"]
    id: str = Field(min_length=1)
    chat: str = Field(min_length=1)
    # Lenient beyond id and chat: an event frame refused with 4400 would come back after
    # every reconnect and block the frames queued behind it.
    ref: str = ""
    message_id: str = ""
    error: str = ""
    at: datetime | None = None


BridgeFrame = Hello | Status | Qr | PairingCode | Message | SendFailed | Result
_KNOWN = {"hello", "status", "qr", "pairing_code", "message", "send_failed", "result"}
_adapter: TypeAdapter[BridgeFrame] = TypeAdapter(
    Annotated[BridgeFrame, Field(discriminator="type")]
)


class BridgeConfig(_Frame):
    """The tenant's settings the bridge acts on: `config` in `welcome` and in the `config` frame."""

    groups: bool = True
    reject_calls: bool = False
    call_message: str = DEFAULT_CALL_MESSAGE


def welcome_frame(config: BridgeConfig | None = None) -> str:
    """The handshake's answer, with the tenant's settings for the bridge."""
    return encode("welcome", protocol=PROTOCOL_VERSION, config=config.model_dump() if config else None)


def config_frame(config: BridgeConfig) -> str:
    """The tenant's settings for the bridge changed."""
    return encode("config", config=config.model_dump())


def parse_frame(text: str | bytes) -> BridgeFrame:
    """Turn one text frame from a bridge into a typed frame.

    Raises ProtocolError for malformed JSON or fields, UnknownFrame for an unknown type.
    """
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed JSON: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProtocolError("a frame must be a JSON object with a string field 'type'")
    if raw["type"] not in _KNOWN:
        raise UnknownFrame(raw["type"][:40])
    try:
        return _adapter.validate_python(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"][1:]) or raw["type"]
        raise ProtocolError(f"bad {raw['type']} frame: {where}: {error['msg']}") from None


def encode(frame_type: str, **fields: Any) -> str:
    """One relay-to-bridge frame as JSON text (fields that are None are left out)."""
    body = {"type": frame_type, **{k: v for k, v in fields.items() if v is not None}}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
