"""Customer chats: the model, the repository protocol, and its two back-ends (MongoDB and
the embedded SQLite store); `open_chats` picks the one for the store in use."""

from __future__ import annotations

from typing import Any

from core.sqlite import Database
from relay.chats.model import CLAIMS, Chat, ChatRepository, PauseKind, chat_key
from relay.chats.mongo import MongoChats
from relay.chats.sqlite import SqliteChats

__all__ = ["CLAIMS", "Chat", "ChatRepository", "PauseKind", "chat_key", "open_chats"]


def open_chats(db: Any) -> ChatRepository:
    """The chats repository of a store's database (`Store.db`)."""
    return SqliteChats(db) if isinstance(db, Database) else MongoChats(db)
