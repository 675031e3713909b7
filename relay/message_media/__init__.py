"""Media of pending messages: the model, the repository protocol, and its two back-ends
(MongoDB and the embedded SQLite store); `open_media` picks the one for the store in use."""

from __future__ import annotations

from typing import Any

from core.sqlite import Database
from relay.message_media.model import MessageMedia, StoredMedia
from relay.message_media.mongo import MongoMessageMedia
from relay.message_media.sqlite import SqliteMessageMedia

__all__ = ["MessageMedia", "StoredMedia", "open_media"]


def open_media(db: Any) -> MessageMedia:
    """The media repository of a store's database (`Store.db`)."""
    return SqliteMessageMedia(db) if isinstance(db, Database) else MongoMessageMedia(db)
