"""OpenAI error counts per tenant and day: the protocol and its two back-ends (MongoDB and
the embedded SQLite store); `open_openai_errors` picks the one for the store in use."""

from __future__ import annotations

from typing import Any

from core.sqlite import Database
from relay.openai_errors.model import KEEP_DAYS, OpenAIErrorLog
from relay.openai_errors.mongo import MongoOpenAIErrors
from relay.openai_errors.sqlite import SqliteOpenAIErrors

__all__ = ["KEEP_DAYS", "OpenAIErrorLog", "open_openai_errors"]


def open_openai_errors(db: Any) -> OpenAIErrorLog:
    """The OpenAI error counts of a store's database (`Store.db`)."""
    return SqliteOpenAIErrors(db) if isinstance(db, Database) else MongoOpenAIErrors(db)
