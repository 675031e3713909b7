"""The one error boundary of the bot: log the failure, tell the admin in one sentence."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.i18n import t
from bot.replies import lang_of

log = logging.getLogger("bot.errors")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Application error handler."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("handling update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        await update.effective_chat.send_message(t(lang_of(update), "error"))
    except TelegramError:
        log.warning("could not tell the admin about the failure of update %s", update_id)
