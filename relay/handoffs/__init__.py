"""Handoff counts per tenant and day, by the assistant or by the owner: the protocol and its
two back-ends (MongoDB and the embedded SQLite store); `open_handoffs` picks the one for
the store in use."""

from __future__ import annotations

from typing import Any

from core.sqlite import Database
from relay.handoffs.model import KEEP_DAYS, HandoffBy, HandoffLog
from relay.handoffs.mongo import MongoHandoffs
from relay.handoffs.sqlite import SqliteHandoffs

__all__ = ["KEEP_DAYS", "HandoffBy", "HandoffLog", "open_handoffs"]


def open_handoffs(db: Any) -> HandoffLog:
    """The handoff counts of a store's database (`Store.db`)."""
    return SqliteHandoffs(db) if isinstance(db, Database) else MongoHandoffs(db)
