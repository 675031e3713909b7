"""Usage and estimated cost per tenant for a UTC calendar month: what /usage shows."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.clock import Clock
from relay.usage.model import UsageDay, UsageLog
from relay.usage.prices import Prices

CSV_HEADER = ["day", "model", "responses", "input_tokens", "cached_input_tokens", "output_tokens",
              "voice_notes", "voice_seconds", "cost_usd"]


@dataclass
class UsageLine:
    """Tokens, voice notes and cost of a tenant, a day or a month; `unpriced` models are not in `cost`."""

    label: str
    responses: int = 0
    tokens: int = 0
    voice_notes: int = 0
    voice_seconds: float = 0.0
    cost: float = 0.0
    unpriced: set[str] = field(default_factory=set)

    def add(self, row: UsageDay, cost: float | None) -> None:
        self.responses += row.responses
        self.tokens += row.tokens
        self.voice_notes += row.voice_notes
        self.voice_seconds += row.voice_seconds
        if cost is None:
            self.unpriced.add(row.model)
        else:
            self.cost += cost


@dataclass
class MonthUsage:
    """One month (`YYYY-MM`, UTC): a line per tenant or per day, and their total."""

    month: str
    lines: list[UsageLine]
    total: UsageLine
    prices_date: str
    previous: UsageLine | None = None  # last month's total (one tenant's report)


@dataclass(frozen=True, slots=True)
class Spend:
    """A tenant's estimated cost in USD on one UTC day and in its month up to now."""

    day: float
    month: float
    unpriced: bool = False  # some of it is of models without a price, not in the sums


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def previous_month(moment: datetime) -> str:
    return month_of(moment.replace(day=1) - timedelta(days=1))


class UsageReport:
    """Reads the usage counts and prices them."""

    def __init__(self, usage: UsageLog, prices: Prices, clock: Clock) -> None:
        self._usage = usage
        self._prices = prices
        self._clock = clock

    def cost(self, row: UsageDay) -> float | None:
        """The row's estimated cost in USD; None when its model has no price."""
        price = self._prices.of(row.model)
        if price is None:
            return None
        return price.cost(row.input_tokens, row.cached_tokens, row.output_tokens, row.voice_seconds)

    async def cost_between(self, slug: str, first: str, last: str) -> float:
        """The tenant's estimated cost in USD over UTC days `first` to `last` (priced models only)."""
        return self._sum(slug, await self._usage.days(first, last, slug)).cost

    async def _rows(self, month: str, tenant: str | None = None) -> list[UsageDay]:
        return await self._usage.days(f"{month}-01", f"{month}-31", tenant)

    def _sum(self, label: str, rows: list[UsageDay]) -> UsageLine:
        line = UsageLine(label)
        for row in rows:
            line.add(row, self.cost(row))
        return line

    def _grouped(self, month: str, rows: list[UsageDay], key) -> MonthUsage:
        groups: dict[str, list[UsageDay]] = defaultdict(list)
        for row in rows:
            groups[key(row)].append(row)
        lines = [self._sum(label, group) for label, group in sorted(groups.items())]
        return MonthUsage(month, lines, self._sum(month, rows), self._prices.date)

    async def all_tenants(self) -> MonthUsage:
        """This month, a line per tenant."""
        month = month_of(self._clock.now())
        return self._grouped(month, await self._rows(month), lambda row: row.tenant)

    async def tenant(self, slug: str) -> MonthUsage:
        """This month of one tenant, a line per day, with last month's total."""
        now = self._clock.now()
        report = self._grouped(month_of(now), await self._rows(month_of(now), slug), lambda row: row.day)
        before = previous_month(now)
        report.previous = self._sum(before, await self._rows(before, slug))
        return report

    async def spend(self, slug: str, day: str) -> Spend:
        """The tenant's cost on `day` (`YYYY-MM-DD`, UTC) and in that day's month so far."""
        rows = await self._rows(day[:7], slug)
        month = self._sum(day[:7], rows)
        on_day = self._sum(day, [row for row in rows if row.day == day])
        return Spend(on_day.cost, month.cost, bool(month.unpriced))

    async def tenant_csv(self, slug: str) -> str:
        """This month of one tenant as CSV: a row per day and model."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for row in await self._rows(month_of(self._clock.now()), slug):
            cost = self.cost(row)
            writer.writerow([row.day, row.model, row.responses, row.input_tokens, row.cached_tokens,
                             row.output_tokens, row.voice_notes, f"{row.voice_seconds:g}",
                             "" if cost is None else f"{cost:.6f}"])
        return out.getvalue()
