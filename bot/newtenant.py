"""/newtenant: name, slug, e-mail, OpenAI key, instructions, then Confirm.

The one-line form `/newtenant <slug> <email or -> <openai-key>` skips the questions. A
message holding a key is deleted as soon as it is read; the key is checked with OpenAI
before anything is stored.
"""

from __future__ import annotations

import enum
import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot import callbacks as cb
from bot import flows
from bot.i18n import t, usage
from bot.key_entry import check_key, take_key_message
from bot.replies import actor, esc, lang_of, refuse, reply
from bot.services import services
from bot.tenant_actions import invite_outcome
from tenants import validation
from tenants.errors import InvalidInput, SlugTaken, TenantError
from tenants.key_check import KeyCheck
from tenants.secrets import mask_key
from tenants.service import NewTenant

log = logging.getLogger("bot.newtenant")
FLOW = "newtenant"
SUGGEST, KEEP, CONFIRM, ABORT = "slug", "keep", "ok", "no"


class Step(enum.Enum):
    """Where the guided creation stands."""

    NAME = enum.auto()
    SLUG = enum.auto()
    EMAIL = enum.auto()
    KEY = enum.auto()
    INSTRUCTIONS = enum.auto()
    CONFIRM = enum.auto()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step | int:
    """/newtenant, guided or one-line."""
    flows.leave(context, FLOW)
    if context.args:
        return await _one_line(update, context)
    flows.enter(context, FLOW)
    context.user_data[FLOW] = {}
    await reply(update, t(lang_of(update), "nt.ask_name"))
    return Step.NAME


async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    lang = lang_of(update)
    try:
        name = validation.display_name(update.effective_message.text)
    except InvalidInput as exc:
        await refuse(update, lang, exc)
        return Step.NAME
    context.user_data[FLOW]["name"] = name
    suggestion = validation.suggest_slug(name)
    markup = InlineKeyboardMarkup([[cb.button(suggestion, cb.NEWTENANT, SUGGEST, suggestion)]])
    await reply(update, t(lang, "nt.ask_slug", name=esc(name)), markup)
    return Step.SLUG


async def got_slug(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    return await _take_slug(update, context, update.effective_message.text)


async def suggested_slug(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await update.callback_query.answer()
    return await _take_slug(update, context, cb.parse(update.callback_query.data).arg)


async def _take_slug(update: Update, context: ContextTypes.DEFAULT_TYPE, raw: str) -> Step:
    lang = lang_of(update)
    try:
        slug = await _free_slug(context, raw)
    except TenantError as exc:
        await refuse(update, lang, exc)
        return Step.SLUG
    context.user_data[FLOW]["slug"] = slug
    await reply(update, t(lang, "nt.ask_email"))
    return Step.EMAIL


async def got_email(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    lang = lang_of(update)
    try:
        context.user_data[FLOW]["email"] = validation.email(update.effective_message.text)
    except InvalidInput as exc:
        await refuse(update, lang, exc)
        return Step.EMAIL
    flows.expect_key(context, FLOW)
    await reply(update, t(lang, "nt.ask_key"))
    return Step.KEY


async def skip_email(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    context.user_data[FLOW]["email"] = None
    flows.expect_key(context, FLOW)
    await reply(update, t(lang_of(update), "nt.ask_key"))
    return Step.KEY


async def got_key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    raw = await take_key_message(update)
    lang = lang_of(update)
    draft = context.user_data[FLOW]
    draft.pop("key", None)
    try:
        key = validation.openai_key(raw)
    except InvalidInput as exc:
        await refuse(update, lang, exc)
        return Step.KEY
    result = await check_key(update, services(context), lang, key, final=False, keep=(cb.NEWTENANT, KEEP))
    if result is KeyCheck.INVALID:
        return Step.KEY
    draft["key"] = key
    if result is KeyCheck.UNREACHABLE:
        return Step.KEY  # the "keep anyway" button moves on
    flows.expect_key(context, FLOW, False)
    await reply(update, t(lang, "nt.ask_instructions"))
    return Step.INSTRUCTIONS


async def keep_key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step | int:
    """ "Keep the key anyway" after OpenAI could not be reached."""
    await update.callback_query.answer()
    draft = context.user_data.get(FLOW) or {}
    if not draft.get("key"):
        await reply(update, t(lang_of(update), "expired_button"))
        return Step.KEY
    await update.callback_query.edit_message_reply_markup(None)
    flows.expect_key(context, FLOW, False)
    if draft.get("one_line"):
        return await _create(update, context)
    await reply(update, t(lang_of(update), "nt.ask_instructions"))
    return Step.INSTRUCTIONS


async def got_instructions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    lang = lang_of(update)
    try:
        context.user_data[FLOW]["instructions"] = validation.instructions(update.effective_message.text)
    except InvalidInput as exc:
        await refuse(update, lang, exc)
        return Step.INSTRUCTIONS
    return await _summary(update, context)


async def skip_instructions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    context.user_data[FLOW]["instructions"] = None
    return await _summary(update, context)


async def _summary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    lang, draft = lang_of(update), context.user_data[FLOW]
    instructions = draft.get("instructions")
    text = t(lang, "nt.summary", name=esc(draft["name"]), slug=esc(draft["slug"]),
             email=esc(draft.get("email") or t(lang, "none")), key=esc(mask_key(draft["key"])),
             instructions=esc(_shorten(instructions)) if instructions else t(lang, "nt.default_instructions"))
    markup = InlineKeyboardMarkup([[cb.button(t(lang, "btn.confirm"), cb.NEWTENANT, CONFIRM),
                                    cb.button(t(lang, "btn.cancel"), cb.NEWTENANT, ABORT)]])
    await reply(update, text, markup)
    return Step.CONFIRM


async def decided(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step | int:
    """Confirm or Cancel under the summary."""
    query = update.callback_query
    await query.answer()
    await query.edit_message_reply_markup(None)
    if cb.parse(query.data).slug == ABORT:
        await reply(update, t(lang_of(update), "cancelled"))
        return flows.leave(context, FLOW)
    return await _create(update, context)


async def _create(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Store the tenant, send the invite, give the link, and watch for its first QR."""
    svc, lang, draft = services(context), lang_of(update), context.user_data.get(FLOW) or {}
    flows.leave(context, FLOW)
    new = NewTenant(slug=draft["slug"], name=draft["name"], openai_key=draft["key"], email=draft.get("email"),
                    instructions=draft.get("instructions"))
    try:
        tenant = await svc.tenants.create(new, actor(update))
    except TenantError as exc:
        await refuse(update, lang, exc)
        return flows.END
    log.info("tenant %s created by %s", tenant.slug, actor(update))
    lines = [t(lang, "nt.created", name=esc(tenant.name), link=esc(svc.landing_link(tenant)))]
    invite = await invite_outcome(svc, lang, tenant, explicit=False)
    if invite:
        lines.append(invite)
    await reply(update, "\n\n".join(lines))
    await svc.qr.watch(tenant.slug, update.effective_chat.id, lang)
    return flows.END


# --- the one-line form -----------------------------------------------------------------

async def _one_line(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step | int:
    """`/newtenant <slug> <email or -> <openai-key>`: the key message is deleted first."""
    args = list(context.args or [])
    await take_key_message(update)  # the command itself carries the key
    lang = lang_of(update)
    if len(args) != 3:
        await reply(update, usage(lang, "newtenant"))
        return flows.END
    slug_arg, email_arg, key_arg = args
    try:
        slug = await _free_slug(context, slug_arg)
        email = None if email_arg == "-" else validation.email(email_arg)
        key = validation.openai_key(key_arg)
    except TenantError as exc:
        await refuse(update, lang, exc, "newtenant")
        return flows.END
    context.user_data[FLOW] = {"name": slug, "slug": slug, "email": email, "key": key, "one_line": True}
    result = await check_key(update, services(context), lang, key, final=True, keep=(cb.NEWTENANT, KEEP))
    if result is KeyCheck.INVALID:
        return flows.leave(context, FLOW)
    if result is KeyCheck.UNREACHABLE:
        flows.enter(context, FLOW)
        flows.expect_key(context, FLOW)
        return Step.KEY
    return await _create(update, context)


async def _free_slug(context: ContextTypes.DEFAULT_TYPE, raw: str) -> str:
    slug = validation.slug(raw.strip().lower())
    if await services(context).tenants.find(slug) is not None:
        raise SlugTaken(slug)
    return slug


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def flow():
    """The /newtenant conversation."""
    skip = CommandHandler("skip", skip_email)
    return flows.conversation(
        FLOW,
        entry_points=[CommandHandler("newtenant", start)],
        states={
            Step.NAME: [flows.text_step(got_name)],
            Step.SLUG: [flows.text_step(got_slug),
                        CallbackQueryHandler(suggested_slug, pattern=rf"^{cb.NEWTENANT}:{SUGGEST}:")],
            Step.EMAIL: [flows.text_step(got_email), skip],
            Step.KEY: [flows.text_step(got_key),
                       CallbackQueryHandler(keep_key, pattern=rf"^{cb.NEWTENANT}:{KEEP}$")],
            Step.INSTRUCTIONS: [flows.text_step(got_instructions), CommandHandler("skip", skip_instructions)],
            Step.CONFIRM: [CallbackQueryHandler(decided, pattern=rf"^{cb.NEWTENANT}:(?:{CONFIRM}|{ABORT})$")],
        },
    )
