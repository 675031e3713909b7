"""Long answers become several WhatsApp messages, cut where a reader would pause."""

from __future__ import annotations

from core.message_packing import pack

MAX_MESSAGE_CHARS = 4000


def split_reply(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Cut `text` into messages of at most `limit` characters, on paragraph boundaries
    when possible, then lines, then words, and only as a last resort mid-word."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    return pack(_pieces(text, limit), limit)


def _pieces(text: str, limit: int) -> list[str]:
    """Paragraphs, each already no longer than `limit`."""
    pieces: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            pieces.append(paragraph)
        else:
            pieces.extend(_cut(paragraph, limit))
    return pieces


def _cut(paragraph: str, limit: int) -> list[str]:
    out: list[str] = []
    rest = paragraph
    while len(rest) > limit:
        window = rest[: limit + 1]
        at = max(window.rfind("\n"), window.rfind(". ") + 1, window.rfind(" "))
        if at <= 0:
            at = limit
        out.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    if rest:
        out.append(rest)
    return out
