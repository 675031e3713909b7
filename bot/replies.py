"""How handlers answer: the admin's language, escaped text, replies, refusals with the right form."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot.i18n import language, t, usage
from bot.services import services
from tenants.errors import InvalidInput, SlugTaken, TenantError, TenantNotFound
from tenants.model import Tenant


def esc(value: object) -> str:
    """Tenant-provided text made safe for HTML: control characters dropped, <>& escaped."""
    text = "".join(ch for ch in str(value) if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return html.escape(text, quote=False)


def lang_of(update: object) -> str:
    """The language of the admin who sent this update (Spanish unless their Telegram is English)."""
    user = update.effective_user if isinstance(update, Update) else None
    return language(user.language_code if user else None)


def actor(update: Update) -> str:
    """Who did it, for the audit log."""
    return f"telegram:{update.effective_user.id}" if update.effective_user else "telegram:?"


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Answer in the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


async def refuse(update: Update, lang: str, error: TenantError, command: str | None = None) -> None:
    """Say what is wrong with the input and, for a command, its correct form."""
    lines = [error_text(lang, error)]
    if command:
        lines.append(usage(lang, command))
    await reply(update, "\n".join(lines))


def error_text(lang: str, error: TenantError) -> str:
    """One sentence for a refusal by the tenant rules."""
    if isinstance(error, TenantNotFound):
        return t(lang, "not_found", slug=esc(error.slug))
    if isinstance(error, SlugTaken):
        return t(lang, "slug_taken", slug=esc(error.slug))
    if isinstance(error, InvalidInput):
        key = f"invalid.{error.field}"
        try:
            return t(lang, key)
        except KeyError:
            return esc(error.hint)
    return esc(str(error))


async def tenant_from_args(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str,
                           count: int = 1, more_ok: bool = False) -> Tenant | None:
    """The tenant named by the first argument, when `count` arguments (or more) were given.

    Otherwise answer with what is wrong and the correct form, and return None.
    """
    lang = lang_of(update)
    args = context.args or []
    if len(args) < count or (len(args) > count and not more_ok):
        await reply(update, (t(lang, "missing_slug") + "\n" if not args else "") + usage(lang, command))
        return None
    tenant = await services(context).tenants.find(args[0].strip().lower())
    if tenant is None:
        await reply(update, t(lang, "not_found", slug=esc(args[0])) + "\n" + usage(lang, command))
    return tenant


async def tenant_from_callback(update: Update, context: ContextTypes.DEFAULT_TYPE, slug: str) -> Tenant | None:
    """The tenant a button refers to, or None after telling the admin it is gone."""
    tenant = await services(context).tenants.find(slug)
    if tenant is None:
        await reply(update, t(lang_of(update), "not_found", slug=esc(slug)))
    return tenant


TenantAction = Callable[[Update, ContextTypes.DEFAULT_TYPE, Tenant], Awaitable[None]]


def slug_command(command: str, action: TenantAction, doc: str) -> Callable:
    """A `/command <slug>` handler that runs `action` on the named tenant."""
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        tenant = await tenant_from_args(update, context, command)
        if tenant is not None:
            await action(update, context, tenant)
    handler.__doc__ = doc
    return handler


def slug_button(action: TenantAction, doc: str) -> Callable:
    """A button handler that runs `action` on the tenant its callback data names."""
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer()
        tenant = await tenant_from_callback(update, context, cb.parse(update.callback_query.data).slug)
        if tenant is not None:
            await action(update, context, tenant)
    handler.__doc__ = doc
    return handler
