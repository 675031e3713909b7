"""/usage <slug>'s chart: the month's messages per day as bars and the spend so far as a line,
with the monthly budget as a horizontal line. Drawn with matplotlib when it is installed (the
optional `chart` extra); without it /usage sends its text alone."""

from __future__ import annotations

import calendar
import io
from typing import Any

from bot.budget import money
from bot.i18n import t

WIDTH, HEIGHT, DPI = 8.0, 4.5, 100  # 800 x 450 px: readable in a phone's Telegram


def usage_chart_png(lang: str, slug: str, report: Any, budget_usd: float | None) -> bytes | None:
    """The chart of one tenant's month (a relay UsageReport.tenant() result) as PNG bytes, or
    None when matplotlib is not installed. CPU-bound: call it in a thread."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    days, messages, spend = _series(report)
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)  # no pyplot: no global state, Agg canvas
    FigureCanvasAgg(figure)
    left = figure.add_subplot()
    left.bar(days, messages, color="#8fb3d9", label=t(lang, "usage_chart.messages"))
    left.set_xlabel(t(lang, "usage_chart.day", month=report.month))
    left.set_ylabel(t(lang, "usage_chart.messages"))
    left.set_xlim(0.5, days[-1] + 0.5)
    left.set_ylim(bottom=0, top=max([*messages, 1]) * 1.4)  # room for the legend above the bars
    right = left.twinx()
    right.plot(days[:len(spend)], spend, color="#c0392b", marker="o", markersize=3,
               label=t(lang, "usage_chart.spend"))
    right.set_ylabel(t(lang, "usage_chart.spend"))
    if budget_usd is not None:
        right.axhline(budget_usd, color="#7f8c8d", linestyle="--",
                      label=t(lang, "usage_chart.budget", usd=money(lang, budget_usd)))
    right.set_ylim(bottom=0, top=max([budget_usd or 0, *spend, 0.01]) * 1.4)
    handles = [h for axes in (left, right) for h in axes.get_legend_handles_labels()[0]]
    right.legend(handles=handles, loc="upper right", fontsize="small")
    figure.suptitle(t(lang, "usage_chart.title", slug=slug, month=report.month))
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _series(report: Any) -> tuple[list[int], list[int], list[float]]:
    """Every day of the month; responses per day; the spend so far up to the last day with usage."""
    year, month = (int(part) for part in report.month.split("-"))
    days = list(range(1, calendar.monthrange(year, month)[1] + 1))
    by_day = {int(line.label[-2:]): line for line in report.lines}
    messages = [by_day[day].responses if day in by_day else 0 for day in days]
    spend, total = [], 0.0
    for day in days[:max(by_day, default=0)]:
        total += by_day[day].cost if day in by_day else 0.0
        spend.append(round(total, 6))
    return days, messages, spend
