"""Long texts go out as several chat messages: pieces packed greedily under a size limit.

WhatsApp replies (relay/pipeline/splitting.py) and Telegram digests (bot/digest.py) cut
their text into pieces differently (sentences and words; whole lines, so HTML tags stay
whole), then pack the pieces the same way, here.
"""

from __future__ import annotations

from collections.abc import Iterable


def pack(pieces: Iterable[str], limit: int, separator: str = "\n\n") -> list[str]:
    """Join consecutive `pieces` with `separator` into messages of at most `limit`
    characters, in order; each piece must already fit in `limit` on its own."""
    messages: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}{separator}{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
        else:
            messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages
