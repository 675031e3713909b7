"""The outbox: the model (refs, queued texts), the repository protocol, and its two
back-ends (MongoDB and the embedded SQLite store); `open_outbox` picks the one for the store
in use."""

from __future__ import annotations

from typing import Any

from core.sqlite import Database
from relay.outbox.model import Outbox, OutgoingText, command_ref, prepare, turn_ref
from relay.outbox.mongo import MongoOutbox
from relay.outbox.sqlite import SqliteOutbox

__all__ = ["Outbox", "OutgoingText", "command_ref", "open_outbox", "prepare", "turn_ref"]


def open_outbox(db: Any) -> Outbox:
    """The outbox of a store's database (`Store.db`)."""
    return SqliteOutbox(db) if isinstance(db, Database) else MongoOutbox(db)
