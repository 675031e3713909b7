"""What every multi-step flow shares: /cancel, a 10-minute timeout, and leaving on any command.

Each flow is a ConversationHandler in its own handler group. Any command other than the
flow's own steps (/skip) ends it quietly; /cancel (group 0, bot.commands) also says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, ContextTypes, ConversationHandler, MessageHandler, TypeHandler, filters
from telegram.warnings import PTBUserWarning

from bot.i18n import t
from bot.replies import lang_of, reply

FLOW_TIMEOUT = 600.0
END = ConversationHandler.END
_EXPECTING_KEY = "expecting_key"


def enter(context: ContextTypes.DEFAULT_TYPE, name: str) -> None:
    """Mark the flow `name` as active for this admin."""
    context.user_data.setdefault("flows", set()).add(name)


def leave(context: ContextTypes.DEFAULT_TYPE, name: str) -> int:
    """Mark the flow as finished, drop its draft (keys included); returns END."""
    context.user_data.get("flows", set()).discard(name)
    context.user_data.pop(name, None)
    expect_key(context, name, False)
    return END


def expect_key(context: ContextTypes.DEFAULT_TYPE, name: str, expecting: bool = True) -> None:
    """Whether the flow `name` is at a step that asks for an OpenAI key: anywhere else a
    message holding a key is deleted unread (bot.access)."""
    if expecting:
        context.user_data[_EXPECTING_KEY] = name
    elif context.user_data.get(_EXPECTING_KEY) == name:
        del context.user_data[_EXPECTING_KEY]


def expecting_key(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether some flow of this admin waits for an OpenAI key now."""
    return _EXPECTING_KEY in context.user_data


def active(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the admin is in the middle of any flow."""
    return bool(context.user_data.get("flows"))


def conversation(name: str, entry_points: Sequence[BaseHandler], states: dict[Any, list[BaseHandler]],
                 timeout: float | None = None) -> ConversationHandler:
    """A flow: the given steps, ended by any other command or after `timeout` seconds
    (FLOW_TIMEOUT, read when the flow is built)."""

    async def quit_on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        return leave(context, name)

    async def timed_out(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        leave(context, name)
        await reply(update, t(lang_of(update), "timed_out"))

    with warnings.catch_warnings():
        # Buttons inside a per-chat flow are intended: PTB warns they are not per-message.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=list(entry_points),
            states={**states, ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)]},
            fallbacks=[MessageHandler(filters.COMMAND, quit_on_command)],
            allow_reentry=True,
            conversation_timeout=timeout if timeout is not None else FLOW_TIMEOUT,
            name=name,
        )


def text_step(callback: Callable) -> MessageHandler:
    """A step that reads the admin's next plain message."""
    return MessageHandler(filters.TEXT & ~filters.COMMAND, callback)
