"""Events published on the in-process bus (core.bus.EventBus).

Bridge events come from the bridge endpoint, tenant events from tenants.service,
alerts from whichever component sees the change. Subscribers: the pipeline, the
supervisor, the admin bot and the landing pages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class WhatsAppState:
    """What is known of one tenant's WhatsApp link right now."""

    state: str = "stopped"
    phone: str | None = None
    name: str | None = None
    reason: str | None = None
    until: datetime | None = None  # when a temporary ban ends, if WhatsApp said
    qr: str | None = None
    qr_expires_at: datetime | None = None
    pairing_code: str | None = None
    pairing_code_expires_at: datetime | None = None
    updated_at: datetime | None = None


# --- bridge events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BridgeConnected:
    """A tenant's bridge completed the handshake."""

    tenant: str


@dataclass(frozen=True, slots=True)
class BridgeDisconnected:
    """A tenant's bridge connection is gone."""

    tenant: str


@dataclass(frozen=True, slots=True)
class WhatsAppStateChanged:
    """A tenant's WhatsApp state, QR or pairing code changed."""

    tenant: str
    state: WhatsAppState
    previous: WhatsAppState


# --- tenant events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TenantCreated:
    tenant: str


@dataclass(frozen=True, slots=True)
class TenantEnabled:
    tenant: str


@dataclass(frozen=True, slots=True)
class TenantDisabled:
    tenant: str


@dataclass(frozen=True, slots=True)
class TenantDeleted:
    tenant: str


@dataclass(frozen=True, slots=True)
class TenantUpdated:
    """Any stored field of the tenant changed (settings, model, instructions, suspension...)."""

    tenant: str


@dataclass(frozen=True, slots=True)
class TenantKeyChanged:
    """The tenant's OpenAI key was replaced (clears a key alert, answers kept turns)."""

    tenant: str


# --- alerts to the operators --------------------------------------------------------


class AlertKind(enum.StrEnum):
    """What the operators are told about, once per change of state."""

    CONNECTED = "connected"
    LOGGED_OUT = "logged_out"
    BANNED = "banned"
    CRASH_LOOP = "crash_loop"
    QR_TIMEOUT = "qr_timeout"
    OPENAI_KEY_INVALID = "openai_key_invalid"
    OPENAI_QUOTA = "openai_quota"
    OPENAI_RECOVERED = "openai_recovered"
    SEND_FAILED = "send_failed"  # WhatsApp refused a reply for good
    SEND_UNCERTAIN = "send_uncertain"  # the bridge restarted mid-send: a reply may not have arrived
    STORE_TROUBLE = "store_trouble"  # the store refuses writes (disk full, read-only): messages wait
    AI_HANDOFF = "ai_handoff"  # the assistant handed a chat to a person (if the tenant asks for it)
    BUDGET_WARNING = "budget_warning"  # a tenant spent 80 % of its monthly budget
    BUDGET_STOPPED = "budget_stopped"  # 100 %: the assistant stopped until the month ends
    BUDGET_FALLBACK = "budget_fallback"  # 100 %: the assistant answers with the cheaper model
    # A document could not be learned (detail: file, code bad_key | quota | rejected, reason);
    # the assistant keeps answering without it.
    KNOWLEDGE_FAILED = "knowledge_failed"
    # A vector store of the tenant was deleted at OpenAI (detail: vector_store); it is no longer searched.
    KNOWLEDGE_GONE = "knowledge_gone"


@dataclass(frozen=True, slots=True)
class Alert:
    """Something the operators must hear about."""

    tenant: str
    kind: AlertKind
    detail: dict[str, str] = field(default_factory=dict)
