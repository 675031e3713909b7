"""Linking WhatsApp: /qr and its button (a QR photo), /pair and its button (a pairing code)."""

from __future__ import annotations

import enum
import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot import callbacks as cb
from bot import flows
from bot.i18n import duration, t
from bot.replies import (
    esc,
    lang_of,
    refuse,
    reply,
    slug_button,
    slug_command,
    tenant_from_args,
    tenant_from_callback,
)
from bot.services import services
from relay import BridgeError
from tenants import validation
from tenants.errors import InvalidInput
from tenants.model import Tenant

log = logging.getLogger("bot.linking")
FLOW = "pair"


class PairStep(enum.Enum):
    """The pairing-code button's one question."""

    PHONE = enum.auto()


# --- QR --------------------------------------------------------------------------------

async def send_qr(update: Update, context: ContextTypes.DEFAULT_TYPE, tenant: Tenant) -> None:
    """Ask the bridge for a QR and make this chat a watcher of the tenant's QRs."""
    svc, lang, chat_id = services(context), lang_of(update), update.effective_chat.id
    state = svc.states.get(tenant.slug)
    if state.state == "connected":
        await reply(update, t(lang, "already_connected", name=esc(tenant.name), phone=esc(state.phone or "?")))
        return
    showing = await svc.qr.watch(tenant.slug, chat_id, lang)
    try:
        await svc.login.request_qr(tenant.slug)
    except BridgeError as exc:
        await svc.qr.forget(tenant.slug, chat_id)
        await reply(update, t(lang, "bridge_failed", error=esc(str(exc))))
        return
    if not showing:
        await reply(update, t(lang, "qr_asking", name=esc(tenant.name)))


qr_command = slug_command("qr", send_qr, "/qr <slug>: a QR photo in this chat, replaced as new QRs come.")
qr_button = slug_button(send_qr, 'The card\'s QR button, or "get a new QR" under an expired one.')


# --- pairing code ----------------------------------------------------------------------

async def pair_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pair <slug> <phone>: the code to type on the phone, as text."""
    tenant = await tenant_from_args(update, context, "pair", count=2, more_ok=True)
    if tenant is not None:
        await _pair(update, context, tenant, " ".join(context.args[1:]))  # "+56 9 1234 5678"


async def pair_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> PairStep | int:
    """The card's pairing-code button: ask for the phone number."""
    await update.callback_query.answer()
    tenant = await tenant_from_callback(update, context, cb.parse(update.callback_query.data).slug)
    if tenant is None:
        return flows.END
    flows.enter(context, FLOW)
    context.user_data[FLOW] = tenant.slug
    await reply(update, t(lang_of(update), "ask_phone", name=esc(tenant.name)))
    return PairStep.PHONE


async def pair_phone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> PairStep | int:
    """The phone number for the pairing-code button."""
    tenant = await services(context).tenants.find(context.user_data.get(FLOW, ""))
    if tenant is None:
        return flows.leave(context, FLOW)
    if await _pair(update, context, tenant, update.effective_message.text):
        return flows.leave(context, FLOW)
    return PairStep.PHONE


async def _pair(update: Update, context: ContextTypes.DEFAULT_TYPE, tenant: Tenant, raw_phone: str) -> bool:
    svc, lang = services(context), lang_of(update)
    try:
        phone = validation.phone(raw_phone)
    except InvalidInput as exc:
        await refuse(update, lang, exc, "pair")
        return False
    try:
        code = await svc.login.pairing_code(tenant.slug, phone)
    except BridgeError as exc:
        await reply(update, t(lang, "bridge_failed", error=esc(str(exc))))
        return True
    text = t(lang, "pair_code", name=esc(tenant.name), code=esc(code), phone=esc(phone))
    expires_at = svc.states.get(tenant.slug).pairing_code_expires_at
    if expires_at is not None:
        text += t(lang, "pair_code_valid", left=duration((expires_at - svc.clock.now()).total_seconds()))
    await reply(update, text)
    return True


def handlers() -> list:
    """Group-0 handlers of this module."""
    return [
        CommandHandler("qr", qr_command),
        CommandHandler("pair", pair_command),
        CallbackQueryHandler(qr_button, pattern=cb.pattern(cb.QR)),
    ]


def pairing_flow():
    """The pairing-code button's conversation (its own handler group)."""
    return flows.conversation(
        FLOW,
        entry_points=[CallbackQueryHandler(pair_button, pattern=cb.pattern(cb.PAIR))],
        states={PairStep.PHONE: [flows.text_step(pair_phone)]},
    )


