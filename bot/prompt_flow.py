"""/prompt <slug>: show the current instructions; the next message replaces them."""

from __future__ import annotations

import enum

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot import flows
from bot.i18n import t
from bot.replies import actor, esc, lang_of, refuse, reply, tenant_from_args
from bot.services import services
from tenants.errors import InvalidInput, TenantError

FLOW = "prompt"
SHOWN_CHARS = 3000  # a Telegram message holds 4096; long prompts are shown cut


class PromptStep(enum.Enum):
    """Waiting for the new instructions."""

    TEXT = enum.auto()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> PromptStep | int:
    """/prompt <slug>"""
    tenant = await tenant_from_args(update, context, "prompt")
    if tenant is None:
        return flows.leave(context, FLOW)
    flows.enter(context, FLOW)
    context.user_data[FLOW] = tenant.slug
    current = tenant.instructions
    shown = current if len(current) <= SHOWN_CHARS else current[:SHOWN_CHARS] + "…"
    await reply(update, t(lang_of(update), "prompt.current", name=esc(tenant.name), text=esc(shown)))
    return PromptStep.TEXT


async def got_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> PromptStep | int:
    """The new instructions."""
    lang = lang_of(update)
    try:
        tenant = await services(context).tenants.set_instructions(
            context.user_data.get(FLOW, ""), update.effective_message.text, actor(update))
    except InvalidInput as exc:
        await refuse(update, lang, exc)
        return PromptStep.TEXT
    except TenantError as exc:
        await refuse(update, lang, exc)
        return flows.leave(context, FLOW)
    await reply(update, t(lang, "prompt.saved", name=esc(tenant.name)))
    return flows.leave(context, FLOW)


def flow():
    """The /prompt conversation."""
    return flows.conversation(FLOW, entry_points=[CommandHandler("prompt", start)],
                              states={PromptStep.TEXT: [flows.text_step(got_text)]})
