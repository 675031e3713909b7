"""The admin chats watching each tenant's QR: the watcher, the store's protocol and its two
back-ends (MongoDB and the embedded SQLite store); `open_qr_watchers` picks the one for the
store in use."""

from __future__ import annotations

from typing import Any

from bot.qr_watchers.model import QrWatchers, Watcher
from bot.qr_watchers.mongo import MongoQrWatchers
from bot.qr_watchers.sqlite import SqliteQrWatchers
from core.sqlite import Database

__all__ = ["QrWatchers", "Watcher", "open_qr_watchers"]


def open_qr_watchers(db: Any) -> QrWatchers:
    """The QR watchers of a store's database (`Store.db`)."""
    return SqliteQrWatchers(db) if isinstance(db, Database) else MongoQrWatchers(db)
