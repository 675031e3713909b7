"""The tenant: one client of the operator, with their own key, model and WhatsApp."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from core.clock import utc
from core.events import WhatsAppState
from tenants.budget import Budget, BudgetNotices
from tenants.hours import OpeningHours, Override

DEFAULT_FALLBACK_TEXT = "Estamos con un problema técnico, te responderemos pronto."
DEFAULT_UNSUPPORTED_TEXT = "Por ahora solo puedo leer mensajes de texto y notas de voz. 🙏"
# What the bridge tells a caller whose call it rejected (docs/PROTOCOL.md, `config`).
DEFAULT_CALL_MESSAGE = "No puedo atender llamadas, escríbeme por aquí"
# What the customer gets when the assistant hands the chat to a person without a word of its own.
DEFAULT_HANDOFF_TEXT = "Te comunico con una persona del equipo. Te responderán pronto."
# What a customer gets outside opening hours in `away` mode, once per chat per closed period.
DEFAULT_AWAY_MESSAGE = "Hola, ahora estamos cerrados. Abrimos {next_open}. Te responderemos entonces."
DEFAULT_INSTRUCTIONS = (
    "Eres el asistente de WhatsApp de este negocio. Responde en el idioma del cliente, "
    "de forma breve, amable y clara. Si no sabes algo, dilo y ofrece que una persona "
    "del equipo responderá pronto. No inventes precios, horarios ni datos."
)


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """What the operator can tune per tenant (/settings)."""

    groups_enabled: bool = False
    handoff_enabled: bool = True
    delete_owner_commands: bool = True
    debounce_seconds: float = 2.0
    handoff_hours: float = 12.0
    memory_hours: float = 24.0
    fallback_text: str = DEFAULT_FALLBACK_TEXT
    unsupported_reply: bool = True
    unsupported_text: str = DEFAULT_UNSUPPORTED_TEXT
    reject_calls: bool = False  # the bridge rejects incoming 1:1 calls and tells the caller to write
    call_message: str = DEFAULT_CALL_MESSAGE
    away_message: str = DEFAULT_AWAY_MESSAGE  # {next_open}: "el lunes a las 09:00"
    ai_handoff: bool = True  # the assistant may hand a chat to a person (the handoff_to_human tool)
    notify_operator_on_handoff: bool = False  # such a handoff also alerts the operators
    handoff_text: str = DEFAULT_HANDOFF_TEXT
    weekly_summary: bool = False  # the owner gets a summary of their bot in their own chat on Mondays

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> TenantSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (doc or {}).items() if k in known})

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Tenant:
    """One tenant as stored. The OpenAI key is only ever held encrypted here."""

    slug: str
    name: str
    email: str | None
    openai_key_encrypted: str
    openai_key_hint: str
    model: str
    instructions: str
    landing_token_hash: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    enabled: bool = True
    suspended: bool = False
    attention: str | None = None
    last_error: str | None = None
    bridge_token_hash: str | None = None
    settings: TenantSettings = field(default_factory=TenantSettings)
    whatsapp: WhatsAppState = field(default_factory=WhatsAppState)
    hours: OpeningHours | None = None  # None: always open
    hours_override: Override | None = None  # the owner's `cerrado` / `abierto`
    budget: Budget | None = None  # None: no monthly budget
    budget_notices: BudgetNotices | None = None  # what the relay told about it this month
    # The landing link's token in clear: only on the tenant returned when the link was issued
    # (created or re-issued). Only its hash is stored; a tenant read back has None here.
    landing_token: str | None = field(default=None, compare=False, repr=False)

    def with_changes(self, **changes: Any) -> Tenant:
        return replace(self, **changes)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Tenant:
        wa = doc.get("whatsapp") or {}
        return cls(
            slug=doc["_id"],
            name=doc["name"],
            email=doc.get("email"),
            openai_key_encrypted=doc["openai_key_encrypted"],
            openai_key_hint=doc.get("openai_key_hint", ""),
            model=doc["model"],
            instructions=doc.get("instructions", ""),
            landing_token_hash=doc["landing_token_hash"],
            created_at=utc(doc["created_at"]),
            updated_at=utc(doc["updated_at"]),
            description=doc.get("description", ""),
            enabled=doc.get("enabled", True),
            suspended=doc.get("suspended", False),
            attention=doc.get("attention"),
            last_error=doc.get("last_error"),
            bridge_token_hash=doc.get("bridge_token_hash"),
            settings=TenantSettings.from_doc(doc.get("settings")),
            hours=OpeningHours.from_doc(doc.get("hours")),
            hours_override=Override.from_doc(doc.get("hours_override")),
            budget=Budget.from_doc(doc.get("budget")),
            budget_notices=BudgetNotices.from_doc(doc.get("budget_notices")),
            whatsapp=WhatsAppState(
                state=wa.get("state", "stopped"),
                phone=wa.get("phone"),
                name=wa.get("name"),
                reason=wa.get("reason"),
                updated_at=utc(wa["updated_at"]) if wa.get("updated_at") else None,
            ),
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.slug,
            "name": self.name,
            "email": self.email,
            "openai_key_encrypted": self.openai_key_encrypted,
            "openai_key_hint": self.openai_key_hint,
            "model": self.model,
            "instructions": self.instructions,
            "landing_token_hash": self.landing_token_hash,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "description": self.description,
            "enabled": self.enabled,
            "suspended": self.suspended,
            "attention": self.attention,
            "last_error": self.last_error,
            "bridge_token_hash": self.bridge_token_hash,
            "settings": self.settings.to_doc(),
            "whatsapp": whatsapp_doc(self.whatsapp),
            "hours": self.hours.to_doc() if self.hours else None,
            "hours_override": self.hours_override.to_doc() if self.hours_override else None,
            "budget": self.budget.to_doc() if self.budget else None,
            "budget_notices": self.budget_notices.to_doc() if self.budget_notices else None,
        }


def whatsapp_doc(state: WhatsAppState) -> dict[str, Any]:
    """The persisted part of a WhatsApp state (QRs and pairing codes are short-lived)."""
    return {
        "state": state.state,
        "phone": state.phone,
        "name": state.name,
        "reason": state.reason,
        "updated_at": state.updated_at,
    }
