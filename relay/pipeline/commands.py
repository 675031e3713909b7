"""Owner commands typed on the owner's own phone: Spanish words with English aliases.

A command is the whole message, trimmed, compared without case or accents; anything
else the owner writes is an ordinary message (and, in a customer chat, a handoff).
"""

from __future__ import annotations

import enum
import unicodedata


class Command(enum.StrEnum):
    """What the owner can tell the bot from WhatsApp."""

    PAUSE = "pause"
    RESUME = "resume"
    PAUSE_ALL = "pause_all"
    RESUME_ALL = "resume_all"
    SUSPEND = "suspend"
    ACTIVATE = "activate"
    STATUS = "status"
    CLOSE = "close"
    OPEN = "open"
    LEARN = "learn"  # the caption of a document sent to the own chat: add it to the knowledge

    @property
    def self_chat_only(self) -> bool:
        """Only meaningful in the owner's own chat; elsewhere the word is an ordinary message."""
        return self is Command.LEARN

    @property
    def chat_level(self) -> bool:
        """Only meaningful inside a customer chat."""
        return self in (Command.PAUSE, Command.RESUME)


_WORDS: dict[str, Command] = {
    "pausar": Command.PAUSE,
    "pause": Command.PAUSE,
    "reactivar": Command.RESUME,
    "resume": Command.RESUME,
    "pausar todo": Command.PAUSE_ALL,
    "pause all": Command.PAUSE_ALL,
    "activar todo": Command.RESUME_ALL,
    "resume all": Command.RESUME_ALL,
    "suspender bot": Command.SUSPEND,
    "suspend bot": Command.SUSPEND,
    "activar bot": Command.ACTIVATE,
    "activate bot": Command.ACTIVATE,
    "estado": Command.STATUS,
    "status": Command.STATUS,
    "cerrado": Command.CLOSE,
    "closed": Command.CLOSE,
    "abierto": Command.OPEN,
    "open": Command.OPEN,
    "aprende": Command.LEARN,
    "learn": Command.LEARN,
}


def normalise(text: str) -> str:
    """Lower case, accents removed, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def parse_command(text: str | None) -> Command | None:
    """The command this whole message is, or None."""
    if not text or len(text) > 40:
        return None
    return _WORDS.get(normalise(text))
