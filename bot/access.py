"""Who may use the bot, and where: checked on every update, buttons included.

Only the configured admins, and only in their private chat with the bot: a group would
show every member the tenants' landing links. A stranger is refused once an hour, not
once per message. A message that looks like an OpenAI key, sent where no step asked for
one, is deleted at once, wherever it was sent.
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import flows
from bot.i18n import t
from bot.key_entry import take_key_message
from bot.replies import lang_of
from bot.services import BotServices, services

log = logging.getLogger("bot.access")

REFUSE_EVERY = 3600.0  # seconds between two refusals to one stranger
_REMEMBERED = 10_000  # strangers whose last refusal is kept; older ones are forgotten first
_KEY_SHAPE = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{16,}")


def looks_like_key(text: str | None) -> bool:
    """Whether `text` holds something shaped like an OpenAI API key."""
    return bool(text and _KEY_SHAPE.search(text))


async def admin_gate(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """TypeHandler for group -1: let admins through in private chats; stop anything else."""
    if not isinstance(update, Update):
        raise ApplicationHandlerStop
    user = update.effective_user
    svc = services(context)
    if user is None or user.id not in svc.settings.telegram_admin_ids:
        await _stranger(update, svc)
        raise ApplicationHandlerStop
    svc.languages[user.id] = lang_of(update)
    private = update.effective_chat is not None and update.effective_chat.type == "private"
    if _stray_key(update, context, private):
        await _delete_key(update)
        raise ApplicationHandlerStop
    if not private:
        await _private_only(update)
        raise ApplicationHandlerStop


async def _stranger(update: Update, svc: BotServices) -> None:
    user = update.effective_user
    who = user.id if user else 0
    due = _refusal_due(svc, who)
    if due:
        log.warning("refused update %s from Telegram user %s (said once an hour)", update.update_id, who or "unknown")
    else:
        log.debug("refused update %s from Telegram user %s", update.update_id, who or "unknown")
    try:
        await _refuse(update, due)
    except TelegramError as exc:
        log.warning("could not send the refusal: %s", exc)


def _refusal_due(svc: BotServices, user_id: int) -> bool:
    """Whether this stranger gets the refusal text now (the first time in an hour)."""
    now = svc.clock.monotonic()
    last = svc.refused.get(user_id)
    if last is not None and now - last < REFUSE_EVERY:
        return False
    if len(svc.refused) >= _REMEMBERED:
        for old in [uid for uid, at in svc.refused.items() if now - at >= REFUSE_EVERY] or list(svc.refused)[:1]:
            del svc.refused[old]
    svc.refused[user_id] = now
    return True


async def _refuse(update: Update, due: bool) -> None:
    text = t(lang_of(update), "refused")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)  # a pop-up, never a chat message
    elif due and update.effective_chat is not None and update.effective_chat.type == "private":
        await update.effective_chat.send_message(text)


def _stray_key(update: Update, context: ContextTypes.DEFAULT_TYPE, private: bool) -> bool:
    """An admin's message holding a key that no step asked for (the one-line /newtenant does)."""
    message = update.message
    text = (message.text or message.caption) if message is not None else None
    if not looks_like_key(text):
        return False
    if private and (flows.expecting_key(context) or text.startswith("/newtenant")):
        return False
    return True


async def _delete_key(update: Update) -> None:
    await take_key_message(update)
    log.info("deleted a message shaped like an OpenAI key from chat %s", update.effective_chat.id)
    try:
        await update.effective_chat.send_message(t(lang_of(update), "key.stray_deleted"))
    except TelegramError as exc:
        log.warning("could not say that a key message was deleted: %s", exc)


async def _private_only(update: Update) -> None:
    """One line, for a command or a button; other chatter in a group is ignored."""
    text = t(lang_of(update), "private_only")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and (update.message.text or "").startswith("/"):
            await update.effective_chat.send_message(text)
    except TelegramError as exc:
        log.warning("could not answer outside the private chat: %s", exc)
