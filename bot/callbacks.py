"""Inline-button payloads: `action:slug[:arg]`, always under Telegram's 64-byte limit."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton

MAX_BYTES = 64

# Actions (short: slugs take up to 32 of the 64 bytes).
CARD = "card"
PAGE = "pg"
ENABLE = "en"
DISABLE = "dis"
QR = "qr"
PAIR = "pc"
LOGOUT = "lo"
LOGOUT_OK = "lo!"
INVITE = "inv"
ROTATE = "rot"
ROTATE_OK = "rot!"
DELETE = "del"
DELETE_OK = "del!"
DISMISS = "x"
SETTING_TOGGLE = "st"
SETTING_VALUE = "sv"
NEWTENANT = "nt"
KEY_KEEP = "kk"
KB_VIEW = "kb"
KB_ADD = "kba"
KB_REMOVE = "kbr"
KB_REMOVE_OK = "kbr!"


@dataclass(frozen=True, slots=True)
class Callback:
    """A parsed button payload."""

    action: str
    slug: str = ""
    arg: str = ""


def data(action: str, slug: str = "", arg: str = "") -> str:
    """Encode a payload; raises ValueError if it would not fit in 64 bytes."""
    value = f"{action}:{slug}:{arg}" if arg else f"{action}:{slug}" if slug else action
    if len(value.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {len(value.encode())} bytes")
    return value


def parse(value: str | None) -> Callback:
    """Decode a payload (missing parts come back empty)."""
    parts = (value or "").split(":", 2)
    return Callback(*(parts + ["", "", ""])[:3])


def pattern(*actions: str) -> str:
    """A CallbackQueryHandler pattern matching these actions."""
    escaped = "|".join(a.replace("!", r"\!") for a in actions)
    return rf"^(?:{escaped})(?::|$)"


def button(text: str, action: str, slug: str = "", arg: str = "") -> InlineKeyboardButton:
    """An inline button carrying a payload."""
    return InlineKeyboardButton(text, callback_data=data(action, slug, arg))
