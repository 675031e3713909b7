"""OpenAI usage per tenant, UTC day and model, and its estimated cost: the protocol and its
two back-ends (MongoDB and the embedded SQLite store), `open_usage` picking the one for the
store in use; the price table; the recorder the pipeline calls; the report /usage shows."""

from __future__ import annotations

from typing import Any

from core.sqlite import Database
from relay.usage.model import KEEP_DAYS, TokenUsage, UsageDay, UsageLog
from relay.usage.mongo import MongoUsage
from relay.usage.prices import PRICES_DATE, Prices, load_prices, shipped_prices
from relay.usage.recorder import UsageRecorder
from relay.usage.report import MonthUsage, UsageLine, UsageReport
from relay.usage.sqlite import SqliteUsage

__all__ = [
    "KEEP_DAYS", "PRICES_DATE", "MonthUsage", "Prices", "TokenUsage", "UsageDay", "UsageLine", "UsageLog",
    "UsageRecorder", "UsageReport", "load_prices", "open_usage", "shipped_prices",
]


def open_usage(db: Any) -> UsageLog:
    """The usage counts of a store's database (`Store.db`)."""
    return SqliteUsage(db) if isinstance(db, Database) else MongoUsage(db)
