"""What a tenant looks like in the bot: its status, its line in the list, its card."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot import callbacks as cb
from bot.i18n import moment, t
from bot.replies import esc
from core.events import WhatsAppState
from tenants.model import Tenant

PER_PAGE = 10

EMOJI = {
    "disabled": "⏸", "banned": "⛔", "attention": "⚠️", "connected": "🟢", "waiting": "🟡",
    "connecting": "🟠", "logged_out": "🔴", "stopped": "⚪",
}
STATUS_ORDER = tuple(EMOJI)


def status(tenant: Tenant, state: WhatsAppState) -> str:
    """One word for where the tenant stands, most urgent first."""
    if not tenant.enabled:
        return "disabled"
    if state.state == "banned":
        return "banned"
    if tenant.attention:
        return "attention"
    if state.state == "connected":
        return "connected"
    if state.state in ("waiting_qr", "pairing"):
        return "waiting"
    if state.state in ("starting", "reconnecting"):
        return "connecting"
    if state.state == "logged_out":
        return "logged_out"
    return "stopped"


def status_text(lang: str, word: str, state: WhatsAppState) -> str:
    """The status word in the admin's language; a temporary ban says until when."""
    if word == "banned" and state.reason == "temporarily_banned":
        if state.until is not None:
            return t(lang, "status.banned_until", until=esc(moment(state.until)))
        return t(lang, "status.banned_temporarily")
    return t(lang, f"status.{word}")


def phone_of(tenant: Tenant, state: WhatsAppState) -> str | None:
    """The linked number, from the live state or the last one stored."""
    return state.phone or tenant.whatsapp.phone


def list_line(tenant: Tenant, state: WhatsAppState) -> str:
    """`🟢 Name · slug · +phone`."""
    phone = phone_of(tenant, state)
    return f"{EMOJI[status(tenant, state)]} {esc(tenant.name)} · <code>{esc(tenant.slug)}</code> · " + (
        f"+{esc(phone)}" if phone else "—")


def list_keyboard(lang: str, tenants: list[Tenant], page: int, pages: int) -> InlineKeyboardMarkup:
    """A button per tenant, then ◀️ ▶️ page buttons."""
    rows = [[cb.button(t(lang, "btn.card", name=tenant.name[:40]), cb.CARD, tenant.slug)] for tenant in tenants]
    nav = []
    if page > 0:
        nav.append(cb.button(t(lang, "btn.prev"), cb.PAGE, "", str(page - 1)))
    if page + 1 < pages:
        nav.append(cb.button(t(lang, "btn.next"), cb.PAGE, "", str(page + 1)))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def card_text(lang: str, tenant: Tenant, state: WhatsAppState, summary: object, link: str | None) -> str:
    """The tenant's card: status, phone, model, e-mail, link, chats, messages today, last error."""
    word = status(tenant, state)
    phone = phone_of(tenant, state)
    none = t(lang, "none")
    return t(
        lang, "card",
        emoji=EMOJI[word], name=esc(tenant.name), slug=esc(tenant.slug), status=status_text(lang, word, state),
        phone=f"+{esc(phone)}" if phone else none, model=esc(tenant.model),
        email=esc(tenant.email) if tenant.email else none, key=esc(tenant.openai_key_hint),
        link=esc(link) if link else t(lang, "link_hidden"), chats=getattr(summary, "chats", 0), paused=getattr(summary, "paused_chats", 0),
        today=getattr(summary, "messages_today", 0),
        error=esc(tenant.last_error[:300]) if tenant.last_error else none,
    )


def card_keyboard(lang: str, tenant: Tenant) -> InlineKeyboardMarkup:
    """The card's actions."""
    slug = tenant.slug
    toggle = (cb.button(t(lang, "btn.disable"), cb.DISABLE, slug) if tenant.enabled
              else cb.button(t(lang, "btn.enable"), cb.ENABLE, slug))
    return InlineKeyboardMarkup([
        [toggle, cb.button(t(lang, "btn.qr"), cb.QR, slug), cb.button(t(lang, "btn.pair"), cb.PAIR, slug)],
        [cb.button(t(lang, "btn.logout"), cb.LOGOUT, slug), cb.button(t(lang, "btn.rotate"), cb.ROTATE, slug)],
        [cb.button(t(lang, "btn.delete"), cb.DELETE, slug)],
    ])


def confirm_keyboard(lang: str, action: str, slug: str) -> InlineKeyboardMarkup:
    """Confirm / Cancel for a destructive action."""
    return InlineKeyboardMarkup([[cb.button(t(lang, "btn.confirm"), action, slug),
                                  cb.button(t(lang, "btn.cancel"), cb.DISMISS)]])
