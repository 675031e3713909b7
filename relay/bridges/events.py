"""Events the bridge endpoint publishes for the pipeline: they carry protocol frames, so
they belong to the relay, not to the kernel's event vocabulary."""

from __future__ import annotations

from dataclasses import dataclass

from relay.protocol import Message, SendFailed


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A `message` frame arrived from a tenant's bridge (not yet acked)."""

    tenant: str
    message: Message


@dataclass(frozen=True, slots=True)
class SendRejected:
    """A `send_failed` frame arrived: WhatsApp refused a reply after accepting it (not yet acked)."""

    tenant: str
    frame: SendFailed
