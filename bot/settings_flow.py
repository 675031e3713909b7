"""/settings <slug>: on/off switches as buttons; numbers and texts asked for by a button."""

from __future__ import annotations

import enum

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot import callbacks as cb
from bot import flows
from bot.i18n import t
from bot.replies import actor, esc, lang_of, reply, tenant_from_args, tenant_from_callback
from bot.services import services
from tenants.errors import InvalidInput
from tenants.model import Tenant

FLOW = "settings"
SWITCHES = {"g": "groups_enabled", "h": "handoff_enabled", "d": "delete_owner_commands", "c": "reject_calls",
            "a": "ai_handoff", "n": "notify_operator_on_handoff", "s": "weekly_summary"}
VALUES = {"b": "debounce_seconds", "o": "handoff_hours", "m": "memory_hours", "f": "fallback_text",
          "l": "call_message", "t": "handoff_text", "w": "away_message"}
LIMITS = {"debounce_seconds": (0, 60), "handoff_hours": (0.1, 720), "memory_hours": (1, 720)}


class SettingStep(enum.Enum):
    """Waiting for a setting's new value."""

    VALUE = enum.auto()


def settings_view(lang: str, tenant: Tenant) -> tuple[str, InlineKeyboardMarkup]:
    """The settings message: one button per setting, showing its value."""
    rows = []
    for code, name in SWITCHES.items():
        mark = "✅" if getattr(tenant.settings, name) else "❌"
        rows.append([cb.button(f"{mark} {t(lang, f'set.{name}')}", cb.SETTING_TOGGLE, tenant.slug, code)])
    for code, name in VALUES.items():
        rows.append([cb.button(f"✏️ {t(lang, f'set.{name}')}: {_shown(getattr(tenant.settings, name))}",
                               cb.SETTING_VALUE, tenant.slug, code)])
    return t(lang, "settings.title", name=esc(tenant.name)), InlineKeyboardMarkup(rows)


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings <slug>"""
    tenant = await tenant_from_args(update, context, "settings")
    if tenant is not None:
        await reply(update, *settings_view(lang_of(update), tenant))


async def toggle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A switch button: flip it and redraw the buttons in place."""
    query = update.callback_query
    await query.answer()
    data = cb.parse(query.data)
    tenant = await tenant_from_callback(update, context, data.slug)
    if tenant is None or data.arg not in SWITCHES:
        return
    name = SWITCHES[data.arg]
    tenant = await services(context).tenants.update_settings(
        tenant.slug, actor(update), **{name: not getattr(tenant.settings, name)})
    await query.edit_message_reply_markup(settings_view(lang_of(update), tenant)[1])


async def ask_value(update: Update, context: ContextTypes.DEFAULT_TYPE) -> SettingStep | int:
    """A value button: ask for the new value."""
    query = update.callback_query
    await query.answer()
    data = cb.parse(query.data)
    tenant = await tenant_from_callback(update, context, data.slug)
    if tenant is None or data.arg not in VALUES:
        return flows.leave(context, FLOW)
    name = VALUES[data.arg]
    flows.enter(context, FLOW)
    context.user_data[FLOW] = (tenant.slug, name)
    lang = lang_of(update)
    value = getattr(tenant.settings, name)  # a text whole: the admin rewrites it from here
    await reply(update, t(lang, "settings.ask", label=t(lang, f"set.{name}"),
                          value=esc(value if isinstance(value, str) else _shown(value))))
    return SettingStep.VALUE


async def got_value(update: Update, context: ContextTypes.DEFAULT_TYPE) -> SettingStep | int:
    """The new value: checked, stored, and the settings shown again."""
    slug, name = context.user_data.get(FLOW, ("", ""))
    lang, raw = lang_of(update), update.effective_message.text.strip()
    try:
        value = _parse(name, raw)
        tenant = await services(context).tenants.update_settings(slug, actor(update), **{name: value})
    except (InvalidInput, ValueError):
        await reply(update, _bad_value(lang, name))
        return SettingStep.VALUE
    await reply(update, t(lang, "settings.saved"))
    await reply(update, *settings_view(lang, tenant))
    return flows.leave(context, FLOW)


def _parse(name: str, raw: str) -> float | str:
    if name in LIMITS:
        value = float(raw.replace(",", "."))
        low, high = LIMITS[name]
        if not low <= value <= high:
            raise ValueError(name)
        return value
    return raw


def _bad_value(lang: str, name: str) -> str:
    if name in LIMITS:
        low, high = LIMITS[name]
        return t(lang, "settings.bad_number", low=f"{low:g}", high=f"{high:g}")
    return t(lang, "settings.bad_text")


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return text if len(text) <= 24 else text[:24] + "…"


def handlers() -> list:
    """Group-0 handlers of this module."""
    return [CommandHandler("settings", settings_command),
            CallbackQueryHandler(toggle, pattern=cb.pattern(cb.SETTING_TOGGLE))]


def flow():
    """The value-asking conversation (its own handler group)."""
    return flows.conversation(
        FLOW,
        entry_points=[CallbackQueryHandler(ask_value, pattern=cb.pattern(cb.SETTING_VALUE))],
        states={SettingStep.VALUE: [flows.text_step(got_value)]},
    )
