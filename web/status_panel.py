"""The WhatsApp part of a landing page: what to show for each state, in plain words.

The same view renders the panel in the full page and in the live (SSE) updates, so a
page that updated itself looks exactly like a freshly loaded one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from core.events import WhatsAppState
from tenants.model import Tenant
from web.i18n import texts
from web.qr_svg import qr_svg

# What the page does, by WhatsApp state; any state not listed is shown as "offline".
_KIND_BY_STATE = {
    "waiting_qr": "waiting_qr",
    "pairing": "pairing",
    "connected": "connected",
    "starting": "waiting",
    "reconnecting": "waiting",
    "banned": "banned",
    "logged_out": "offline",
    "stopped": "offline",
}


@dataclass(frozen=True, slots=True)
class PanelView:
    """Everything the panel template needs, already decided."""

    kind: str
    state_words: str
    qr_svg: str | None = None
    pairing_code: str | None = None
    masked_phone: str | None = None
    answered_today: int | None = None
    paused_chats: int | None = None
    suspended: bool = False
    error: str | None = None
    pair_error: str | None = None
    pair_open: bool = False
    phone_value: str = ""


def panel_kind(tenant: Tenant, state: WhatsAppState) -> str:
    """Which panel a tenant in `state` gets: a disabled tenant only sees whom to contact."""
    if not tenant.enabled:
        return "disabled"
    return _KIND_BY_STATE.get(state.state, "offline")


def build_view(
    tenant: Tenant,
    state: WhatsAppState,
    language: str,
    *,
    answered_today: int | None = None,
    paused_chats: int | None = None,
    error: str | None = None,
    pair_error: str | None = None,
    phone_value: str = "",
) -> PanelView:
    """The panel for `tenant` in `state`, with the texts in `language`."""
    t = texts(language)
    kind = panel_kind(tenant, state)
    words = t.get(f"state.{state.state}", t["state.stopped"]) if kind != "disabled" else t["state.disabled"]
    return PanelView(
        kind=kind,
        state_words=words,
        qr_svg=qr_svg(state.qr, t["qr_alt"]) if kind == "waiting_qr" and state.qr else None,
        pairing_code=format_code(state.pairing_code) if kind == "pairing" and state.pairing_code else None,
        masked_phone=mask_phone(state.phone) if kind == "connected" else None,
        answered_today=answered_today,
        paused_chats=paused_chats,
        suspended=tenant.suspended,
        error=error,
        pair_error=pair_error,
        pair_open=pair_error is not None,
        phone_value=phone_value,
    )


def mask_phone(phone: str | None) -> str:
    """A linked number shown without its middle: "56912342222" -> "+56 9 ••••• 2222"."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) < 9:
        return f"••••• {digits[-4:]}" if len(digits) >= 4 else "•••••"
    return f"+{digits[:2]} {digits[2]} ••••• {digits[-4:]}"


def format_code(code: str) -> str:
    """A pairing code as the phone shows it: "K7Q2M9XZ" -> "K7Q2-M9XZ"."""
    code = code.strip().upper().replace("-", "")
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def fingerprint(tenant: Tenant, state: WhatsAppState) -> str:
    """A short digest of what the panel shows, so a page can tell whether it is current."""
    parts = (state.state, state.qr or "", state.pairing_code or "", state.phone or "", str(tenant.enabled))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
