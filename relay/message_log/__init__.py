"""The message log: the model, the repository protocol, and its two back-ends (MongoDB and
the embedded SQLite store); `open_message_log` picks the one for the store in use."""

from __future__ import annotations

from typing import Any

from core.sqlite import Database
from relay.message_log.model import (
    COUNTERS,
    FAILED_PER_CHAT,
    MAX_STORED_MEDIA,
    SEEN_PER_CHAT,
    MessageLog,
    MessageStatus,
    PendingMessage,
    day_of,
)
from relay.message_log.mongo import MongoMessageLog
from relay.message_log.sqlite import SqliteMessageLog

__all__ = [
    "COUNTERS", "FAILED_PER_CHAT", "MAX_STORED_MEDIA", "SEEN_PER_CHAT", "MessageLog", "MessageStatus",
    "PendingMessage", "day_of", "open_message_log",
]


def open_message_log(db: Any) -> MessageLog:
    """The message log of a store's database (`Store.db`)."""
    return SqliteMessageLog(db) if isinstance(db, Database) else MongoMessageLog(db)
