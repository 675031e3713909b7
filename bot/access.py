"""Only the configured admins may use the bot; checked on every update, buttons included."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.i18n import t
from bot.replies import lang_of
from bot.services import services

log = logging.getLogger("bot.access")


async def admin_gate(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """TypeHandler for group -1: let admins through, refuse anyone else once, briefly."""
    if not isinstance(update, Update):
        raise ApplicationHandlerStop
    user = update.effective_user
    svc = services(context)
    if user is not None and user.id in svc.settings.telegram_admin_ids:
        svc.languages[user.id] = lang_of(update)
        return
    log.warning("refused update %s from Telegram user %s", update.update_id, user.id if user else "unknown")
    try:
        await _refuse(update)
    except TelegramError as exc:
        log.warning("could not send the refusal: %s", exc)
    raise ApplicationHandlerStop


async def _refuse(update: Update) -> None:
    text = t(lang_of(update), "refused")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat is not None and update.effective_chat.type == "private":
        await update.effective_chat.send_message(text)
