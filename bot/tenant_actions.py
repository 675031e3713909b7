"""Commands and card buttons that change a tenant: enable, disable, e-mail, model, invite,
log out, rotate the link, delete (the last three after a Confirm button)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot import callbacks as cb
from bot.cards import confirm_keyboard
from bot.i18n import t
from bot.replies import (
    actor,
    esc,
    lang_of,
    refuse,
    reply,
    tenant_from_args,
    tenant_from_callback,
)
from bot.services import BotServices, services
from relay import BridgeError
from tenants.errors import TenantError
from tenants.invites import InviteError
from tenants.model import Tenant

log = logging.getLogger("bot.actions")


# --- enable / disable ------------------------------------------------------------------

async def enable_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/enable <slug>"""
    tenant = await tenant_from_args(update, context, "enable")
    if tenant is not None:
        await _set_enabled(update, context, tenant, True)


async def disable_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/disable <slug>"""
    tenant = await tenant_from_args(update, context, "disable")
    if tenant is not None:
        await _set_enabled(update, context, tenant, False)


async def _set_enabled(update: Update, context: ContextTypes.DEFAULT_TYPE, tenant: Tenant, enabled: bool) -> None:
    await services(context).tenants.set_enabled(tenant.slug, enabled, actor(update))
    await reply(update, t(lang_of(update), "enabled" if enabled else "disabled", name=esc(tenant.name)))


# --- e-mail, model, invite -------------------------------------------------------------

async def email_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/email <slug> <address>"""
    await _set_field(update, context, "email", services(context).tenants.set_email, lambda t_: t_.email)


async def model_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/model <slug> <model>"""
    await _set_field(update, context, "model", services(context).tenants.set_model, lambda t_: t_.model)


async def description_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/description <slug> <text>: the short description the client's page shows."""
    await _set_field(update, context, "description", services(context).tenants.set_description,
                     lambda t_: t_.description, words=True)


async def _set_field(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str,
                     setter: Callable[[str, str, str], Awaitable[Tenant]], shown: Callable[[Tenant], str],
                     *, words: bool = False) -> None:
    """`/<field> <slug> <value>`: validate and store one field, or say what is wrong.

    With `words`, the value is the rest of the message (several words)."""
    tenant = await tenant_from_args(update, context, field, count=2, more_ok=words)
    if tenant is None:
        return
    lang = lang_of(update)
    value = " ".join(context.args[1:]) if words else context.args[1]
    try:
        tenant = await setter(tenant.slug, value, actor(update))
    except TenantError as exc:
        await refuse(update, lang, exc, field)
        return
    await reply(update, t(lang, f"{field}_set", name=esc(tenant.name), **{field: esc(shown(tenant))}))


async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite <slug>: an invite e-mail with a new link (the current one cannot be shown again:
    only its hash is stored), after a Confirm button."""
    tenant = await tenant_from_args(update, context, "invite")
    if tenant is not None:
        await _ask_invite(update, context, tenant)


async def _ask_invite(update: Update, context: ContextTypes.DEFAULT_TYPE, tenant: Tenant) -> None:
    svc, lang = services(context), lang_of(update)
    if not tenant.email:
        await reply(update, t(lang, "invite_no_email", name=esc(tenant.name), slug=esc(tenant.slug)))
    elif svc.mailer is None:
        await reply(update, t(lang, "invite_no_smtp"))
    else:
        await reply(update, t(lang, "confirm_invite", name=f"<b>{esc(tenant.name)}</b>", email=esc(tenant.email)),
                    confirm_keyboard(lang, cb.ROTATE_OK, tenant.slug))


async def invite_outcome(svc: BotServices, lang: str, tenant: Tenant, *, explicit: bool) -> str:
    """Send the invite with the link just issued (on `tenant`) if possible and say what
    happened (never raises for a mail failure)."""
    if not tenant.email:
        return t(lang, "invite_no_email", name=esc(tenant.name), slug=esc(tenant.slug)) if explicit else ""
    if svc.mailer is None:
        return t(lang, "invite_no_smtp")
    try:
        await svc.mailer.send_invite(tenant)
    except InviteError as exc:
        log.warning("invite for tenant %s failed: %s", tenant.slug, exc)
        return t(lang, "invite_failed", error=esc(exc.text(lang)))
    return t(lang, "invite_sent", email=esc(tenant.email))


# --- confirmed actions: log out, rotate link, delete ------------------------------------

CONFIRMS = {cb.LOGOUT: ("confirm_logout", cb.LOGOUT_OK), cb.ROTATE: ("confirm_rotate", cb.ROTATE_OK),
            cb.DELETE: ("confirm_delete", cb.DELETE_OK)}


async def logout_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/logout <slug>: asks for confirmation."""
    await _ask_confirm(update, context, cb.LOGOUT, await tenant_from_args(update, context, "logout"))


async def delete_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/delete <slug>: asks for confirmation."""
    await _ask_confirm(update, context, cb.DELETE, await tenant_from_args(update, context, "delete"))


async def _ask_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, tenant: Tenant | None) -> None:
    if tenant is None:
        return
    lang = lang_of(update)
    question, confirmed = CONFIRMS[action]
    await reply(update, t(lang, question, name=f"<b>{esc(tenant.name)}</b>"),
                confirm_keyboard(lang, confirmed, tenant.slug))


async def card_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The card's buttons that act on the tenant (QR and pairing live in bot.linking)."""
    query = update.callback_query
    await query.answer()
    data = cb.parse(query.data)
    tenant = await tenant_from_callback(update, context, data.slug)
    if tenant is None:
        return
    if data.action in CONFIRMS:
        await _ask_confirm(update, context, data.action, tenant)
    elif data.action in (cb.ENABLE, cb.DISABLE):
        await _set_enabled(update, context, tenant, data.action == cb.ENABLE)
    elif data.action == cb.INVITE:  # on cards sent before links were hashed
        await _ask_invite(update, context, tenant)
    else:
        await _confirmed(update, context, data.action, tenant)


async def _confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, tenant: Tenant) -> None:
    svc, lang, name = services(context), lang_of(update), esc(tenant.name)
    query = update.callback_query
    if action == cb.LOGOUT_OK:
        try:
            await svc.login.logout(tenant.slug)
        except BridgeError as exc:
            await query.edit_message_text(t(lang, "bridge_failed", error=esc(str(exc))))
            return
        await query.edit_message_text(t(lang, "logged_out", name=name))
    elif action == cb.ROTATE_OK:
        tenant = await svc.tenants.rotate_landing_token(tenant.slug, actor(update))
        lines = [t(lang, "rotated", name=name, link=esc(svc.landing_link(tenant)))]
        invite = await invite_outcome(svc, lang, tenant, explicit=False)
        await query.edit_message_text("\n\n".join(lines + ([invite] if invite else [])))
    elif action == cb.DELETE_OK:
        await svc.tenants.delete(tenant.slug, actor(update))
        await svc.qr.forget(tenant.slug)
        await query.edit_message_text(t(lang, "deleted", name=name))


def handlers() -> list:
    """This module's handlers, for group 0."""
    return [
        CommandHandler("enable", enable_command),
        CommandHandler("disable", disable_command),
        CommandHandler("email", email_command),
        CommandHandler("description", description_command),
        CommandHandler("model", model_command),
        CommandHandler("invite", invite_command),
        CommandHandler("logout", logout_command),
        CommandHandler("delete", delete_command),
        CallbackQueryHandler(card_button, pattern=cb.pattern(
            cb.ENABLE, cb.DISABLE, cb.INVITE, cb.LOGOUT, cb.LOGOUT_OK, cb.ROTATE, cb.ROTATE_OK,
            cb.DELETE, cb.DELETE_OK)),
    ]

