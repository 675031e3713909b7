"""/key <slug>: the next message is the tenant's new OpenAI key — deleted, checked, stored."""

from __future__ import annotations

import enum

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot import callbacks as cb
from bot import flows
from bot.i18n import t
from bot.key_entry import check_key, take_key_message
from bot.replies import actor, esc, lang_of, refuse, reply, tenant_from_args
from bot.services import services
from tenants import validation
from tenants.errors import TenantError
from tenants.key_check import KeyCheck

FLOW = "key"


class KeyStep(enum.Enum):
    """Waiting for the key (or for "keep it anyway")."""

    KEY = enum.auto()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> KeyStep | int:
    """/key <slug>"""
    tenant = await tenant_from_args(update, context, "key")
    if tenant is None:
        return flows.leave(context, FLOW)
    flows.enter(context, FLOW)
    flows.expect_key(context, FLOW)
    context.user_data[FLOW] = {"slug": tenant.slug}
    await reply(update, t(lang_of(update), "key.ask", name=esc(tenant.name), key=esc(tenant.openai_key_hint)))
    return KeyStep.KEY


async def got_key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> KeyStep | int:
    """The key message: deleted first, then checked; stored only if OpenAI accepts it."""
    raw = await take_key_message(update)
    lang = lang_of(update)
    try:
        key = validation.openai_key(raw)
    except TenantError as exc:
        await refuse(update, lang, exc)
        return KeyStep.KEY
    draft = context.user_data.setdefault(FLOW, {})
    draft.pop("key", None)
    result = await check_key(update, services(context), lang, key, final=False, keep=(cb.KEY_KEEP,))
    if result is KeyCheck.VALID:
        return await _store(update, context, key)
    if result is KeyCheck.UNREACHABLE:
        draft["key"] = key
    return KeyStep.KEY


async def keep_anyway(update: Update, context: ContextTypes.DEFAULT_TYPE) -> KeyStep | int:
    """ "Keep the key anyway" after OpenAI could not be reached."""
    await update.callback_query.answer()
    key = context.user_data.get(FLOW, {}).get("key")
    if not key:
        await reply(update, t(lang_of(update), "expired_button"))
        return KeyStep.KEY
    await update.callback_query.edit_message_reply_markup(None)
    return await _store(update, context, key)


async def _store(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str) -> int:
    slug = context.user_data.get(FLOW, {}).get("slug", "")
    lang = lang_of(update)
    try:
        tenant = await services(context).tenants.set_openai_key(slug, key, actor(update))
    except TenantError as exc:
        await refuse(update, lang, exc)
        return flows.leave(context, FLOW)
    await reply(update, t(lang, "key.saved", name=esc(tenant.name), key=esc(tenant.openai_key_hint)))
    return flows.leave(context, FLOW)


def flow():
    """The /key conversation."""
    return flows.conversation(
        FLOW,
        entry_points=[CommandHandler("key", start)],
        states={KeyStep.KEY: [flows.text_step(got_key),
                              CallbackQueryHandler(keep_anyway, pattern=cb.pattern(cb.KEY_KEEP))]},
    )
