"""The read-only commands: /start, /help, /tenants, /tenant, /stats, and /cancel."""

from __future__ import annotations

import math
from collections import Counter

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import callbacks as cb
from bot import flows
from bot.budget import budget_line, month_spend, stats_lines
from bot.cards import (
    EMOJI,
    PER_PAGE,
    STATUS_ORDER,
    card_keyboard,
    card_text,
    list_keyboard,
    list_line,
    status,
)
from bot.i18n import COMMANDS, command_list, t
from bot.replies import lang_of, reply, slug_button, slug_command
from bot.services import BotServices, services
from tenants.model import Tenant


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: what the bot does and its commands."""
    lang = lang_of(update)
    lines = "\n".join(f"/{name} — {text}" for name, text in command_list(lang))
    await reply(update, t(lang, "help", commands=lines))


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: the flows end themselves on any command; this says whether one was running."""
    lang = lang_of(update)
    await reply(update, t(lang, "cancelled" if flows.active(context) else "nothing_to_cancel"))


async def tenants_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tenants: the first page of the list."""
    await _send_page(update, context, 0)


async def page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀️ ▶️: another page of the list, in the same message."""
    await update.callback_query.answer()
    page = int(cb.parse(update.callback_query.data).arg or 0)
    text, markup = await _page(services(context), lang_of(update), page)
    await update.callback_query.edit_message_text(text, reply_markup=markup)


async def _send_page(update: Update, context: ContextTypes.DEFAULT_TYPE, page: int) -> None:
    text, markup = await _page(services(context), lang_of(update), page)
    await reply(update, text, markup)


async def _page(svc: BotServices, lang: str, page: int):
    tenants, total = await svc.tenants.page(max(page, 0), PER_PAGE)
    if total == 0:
        return t(lang, "no_tenants"), None
    pages = max(1, math.ceil(total / PER_PAGE))
    lines = [t(lang, "tenants_page", total=total, page=page + 1, pages=pages)]
    lines += [list_line(tenant, svc.states.get(tenant.slug)) for tenant in tenants]
    return "\n".join(lines), list_keyboard(lang, tenants, page, pages)


async def send_card(update: Update, context: ContextTypes.DEFAULT_TYPE, tenant: Tenant) -> None:
    """Send the tenant's card with its action buttons."""
    svc, lang = services(context), lang_of(update)
    summary = await svc.stats.tenant_summary(tenant.slug)
    text = card_text(lang, tenant, svc.states.get(tenant.slug), summary, svc.landing_link(tenant))
    if tenant.budget is not None:
        text += "\n" + budget_line(lang, tenant, *await month_spend(svc, tenant))
    await reply(update, text, card_keyboard(lang, tenant))


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: tenants by status, messages today and in 7 days, OpenAI errors."""
    svc, lang = services(context), lang_of(update)
    everyone = await svc.tenants.all()
    counts = Counter(status(tenant, svc.states.get(tenant.slug)) for tenant in everyone)
    by_status = "\n".join(f"{EMOJI[word]} {t(lang, f'status.{word}')}: {counts[word]}"
                          for word in STATUS_ORDER if counts[word])
    totals = await svc.stats.totals()
    await reply(update, t(lang, "stats", total=len(everyone), by_status=by_status,
                          today=totals.messages_today, week=totals.messages_7d, errors=totals.openai_errors_7d,
                          ai_today=totals.handoffs_by_assistant_today, owner_today=totals.handoffs_by_owner_today,
                          ai_week=totals.handoffs_by_assistant_7d, owner_week=totals.handoffs_by_owner_7d)
                + await stats_lines(svc, lang, everyone))


async def dismiss_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """✖️ Cancel under a confirmation: the question goes away, nothing changes."""
    await update.callback_query.answer()
    await update.callback_query.edit_message_text(t(lang_of(update), "cancelled"))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have."""
    await reply(update, t(lang_of(update), "unknown_command"))


async def stray_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text outside any flow."""
    if not flows.active(context):
        await reply(update, t(lang_of(update), "stray_text"))


def handlers() -> list:
    """This module's handlers, for group 0 (the catch-alls come last, see AdminBot)."""
    return [
        CommandHandler(["start", "help"], help_command),
        CommandHandler("cancel", cancel_command),
        CommandHandler("tenants", tenants_command),
        CommandHandler("tenant", tenant_command),
        CommandHandler("stats", stats_command),
        CallbackQueryHandler(page_button, pattern=cb.pattern(cb.PAGE)),
        CallbackQueryHandler(card_button, pattern=cb.pattern(cb.CARD)),
        CallbackQueryHandler(dismiss_button, pattern=cb.pattern(cb.DISMISS)),
    ]


def catch_alls() -> list:
    """Unknown commands and stray text; registered after every other group-0 handler."""
    known = "|".join(COMMANDS) + "|skip"
    return [
        MessageHandler(filters.COMMAND & ~filters.Regex(rf"^/(?:{known})(?:@\w+)?(?:\s|$)"), unknown_command),
        MessageHandler(filters.TEXT & ~filters.COMMAND, stray_text),
    ]


tenant_command = slug_command("tenant", send_card, "/tenant <slug>: the tenant's card.")
card_button = slug_button(send_card, 'A "show card" button (list, alerts).')
