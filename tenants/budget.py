"""A tenant's monthly OpenAI budget, what was told about it this month, and the tenant's month.

Pure: no I/O, no clock of its own. The month is the tenant's calendar month in its time
zone (its opening hours' zone, else DEFAULT_TIMEZONE).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.clock import utc

ACTIONS = ("stop", "fallback")
WARN_SHARE = 0.8  # the operators are warned once a month at 80 % of the budget


@dataclass(frozen=True, slots=True)
class Budget:
    """At most `usd` a month; past it the assistant stops, or answers with `fallback_model`."""

    usd: float
    action: str = "stop"
    fallback_model: str | None = None

    def to_doc(self) -> dict[str, Any]:
        return {"usd": self.usd, "action": self.action, "fallback_model": self.fallback_model}

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Budget | None:
        if not doc:
            return None
        return cls(float(doc["usd"]), doc.get("action", "stop"), doc.get("fallback_model"))


@dataclass(frozen=True, slots=True)
class BudgetNotices:
    """What was told in `month` (stored, so that a restart does not tell it again)."""

    month: str
    warned: bool = False  # the operators heard of 80 %
    reached_at: datetime | None = None  # 100 %: when the stop (or the fallback model) began

    def to_doc(self) -> dict[str, Any]:
        return {"month": self.month, "warned": self.warned, "reached_at": self.reached_at}

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> BudgetNotices | None:
        if not doc:
            return None
        reached = doc.get("reached_at")
        return cls(doc["month"], bool(doc.get("warned")), utc(reached) if reached else None)


@dataclass(frozen=True, slots=True)
class BudgetMonth:
    """The tenant's month now, and the UTC days (`YYYY-MM-DD`) its spend is read from."""

    month: str
    first_day: str
    last_day: str


def tenant_zone(hours_zone: str | None, default_zone: str) -> str:
    return hours_zone or default_zone


def budget_month(zone: str, now: datetime) -> BudgetMonth:
    """The calendar month of `now` in `zone`. Usage is counted per UTC day, so the month's
    spend is approximated to whole UTC days: from the UTC day holding the local midnight
    that began the month to today (UTC). East of UTC that takes in the last hours of the
    previous month's last UTC day; west of UTC it leaves out the month's first local hours."""
    local = now.astimezone(zoneinfo.ZoneInfo(zone))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return BudgetMonth(f"{local:%Y-%m}", f"{start.astimezone(UTC):%Y-%m-%d}", f"{now.astimezone(UTC):%Y-%m-%d}")


def parse_budget(words: list[str], model: Any) -> Budget:
    """`<usd> [stop|fallback <model>]`; ValueError(field) naming what is wrong. `model`
    validates a model name (tenants.validation.model)."""
    if not words:
        raise ValueError("amount")
    try:
        usd = float(words[0].replace(",", ".").lstrip("$"))
    except ValueError:
        raise ValueError("amount") from None
    if not 0 < usd < 1_000_000:  # NaN fails this too
        raise ValueError("amount")
    action = words[1].lower() if len(words) > 1 else "stop"
    if action not in ACTIONS or (action == "stop" and len(words) > 2):
        raise ValueError("action")
    if action == "stop":
        return Budget(round(usd, 2))
    if len(words) != 3:
        raise ValueError("model")
    return Budget(round(usd, 2), "fallback", model(words[2]))
