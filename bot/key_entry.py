"""Reading an OpenAI key from the chat: the message is deleted at once, the key checked."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot import callbacks as cb
from bot.i18n import t
from bot.replies import esc, reply
from bot.services import BotServices
from tenants.key_check import KeyCheck
from tenants.secrets import mask_key

log = logging.getLogger("bot.keys")


async def take_key_message(update: Update) -> str:
    """The text of the admin's message, deleted from the chat before anything else happens."""
    message = update.effective_message
    text = message.text or ""
    try:
        await message.delete()
    except TelegramError as exc:
        log.warning("could not delete the message %s holding a key: %s", message.message_id, exc)
    return text


async def check_key(update: Update, svc: BotServices, lang: str, key: str, *, final: bool,
                    keep: tuple[str, ...]) -> KeyCheck:
    """Check `key` against OpenAI and tell the admin what came out (the key only ever masked).

    With `final`, an invalid key ends the attempt ("nothing was stored"); otherwise the
    admin is asked for another one. An unreachable OpenAI offers the "keep anyway" button,
    whose payload is `keep` (action, slug, arg).
    """
    masked = esc(mask_key(key))
    await reply(update, t(lang, "key.checking", key=masked))
    result = await svc.check_key(key)
    if result is KeyCheck.INVALID:
        await reply(update, t(lang, "key.invalid_final" if final else "key.invalid"))
    elif result is KeyCheck.UNREACHABLE:
        markup = InlineKeyboardMarkup([[cb.button(t(lang, "btn.keep_key"), *keep)]])
        await reply(update, t(lang, "key.unreachable", key=masked), markup)
    return result
