"""/usage: OpenAI tokens and estimated cost per tenant this UTC month, one tenant by day (with
a chart when matplotlib is installed), or one tenant's month as a CSV file."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.i18n import t, usage
from bot.replies import esc, lang_of, reply, tenant_from_args
from bot.services import services
from bot.usage_chart import usage_chart_png
from tenants.model import Tenant

CSV_WORDS = ("csv",)


async def usage_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/usage [<slug> [csv]]"""
    svc, lang = services(context), lang_of(update)
    if svc.usage is None:
        await reply(update, t(lang, "usage_report.off"))
        return
    args = context.args or []
    if not args:
        await reply(update, all_tenants_text(lang, await svc.usage.all_tenants()))
        return
    if len(args) > 2 or (len(args) == 2 and args[1].lower() not in CSV_WORDS):
        await reply(update, usage(lang, "usage"))
        return
    tenant = await tenant_from_args(update, context, "usage", more_ok=True)
    if tenant is None:
        return
    if len(args) == 2:
        await send_csv(update, context, tenant)
        return
    report = await svc.usage.tenant(tenant.slug)
    await reply(update, tenant_text(lang, tenant, report))
    await send_chart(update, tenant, report)


async def send_chart(update: Update, tenant: Tenant, report: Any) -> None:
    """The month's chart as a photo, when matplotlib is installed and the month has usage."""
    if not report.lines:
        return
    lang = lang_of(update)
    budget = tenant.budget.usd if tenant.budget else None
    png = await asyncio.to_thread(usage_chart_png, lang, tenant.slug, report, budget)
    if png is not None:
        await update.effective_chat.send_photo(
            photo=png, filename=f"usage-{tenant.slug}-{report.month}.png",
            caption=t(lang, "usage_report.chart", slug=esc(tenant.slug), month=report.month))


async def send_csv(update: Update, context: ContextTypes.DEFAULT_TYPE, tenant: Tenant) -> None:
    """The tenant's month as a CSV document in the chat."""
    svc, lang = services(context), lang_of(update)
    month = f"{svc.clock.now():%Y-%m}"
    text = await svc.usage.tenant_csv(tenant.slug)
    await update.effective_chat.send_document(
        document=text.encode(), filename=f"usage-{tenant.slug}-{month}.csv",
        caption=t(lang, "usage_report.csv", slug=esc(tenant.slug), month=month))


def all_tenants_text(lang: str, report: Any) -> str:
    """Every tenant this month, and the total."""
    lines = [t(lang, "usage_report.title", month=report.month)]
    lines += [f"<code>{esc(line.label)}</code>: {_line(lang, line)}" for line in report.lines]
    if not report.lines:
        lines.append(t(lang, "usage_report.nothing"))
    lines.append(t(lang, "usage_report.total", line=_line(lang, report.total)))
    return "\n".join(lines + _notes(lang, report, report.total.unpriced))


def tenant_text(lang: str, tenant: Tenant, report: Any) -> str:
    """One tenant this month by day, its total, and last month's."""
    lines = [t(lang, "usage_report.tenant_title", slug=esc(tenant.slug), month=report.month)]
    lines += [f"{line.label}: {_line(lang, line)}" for line in report.lines]
    if not report.lines:
        lines.append(t(lang, "usage_report.nothing"))
    lines.append(t(lang, "usage_report.total", line=_line(lang, report.total)))
    lines.append(t(lang, "usage_report.previous", month=report.previous.label, line=_line(lang, report.previous)))
    return "\n".join(lines + _notes(lang, report, report.total.unpriced | report.previous.unpriced))


def _line(lang: str, line: Any) -> str:
    text = t(lang, "usage_report.line", tokens=_number(lang, line.tokens), cost=_usd(lang, line.cost))
    if line.voice_notes:
        text += t(lang, "usage_report.voice", notes=line.voice_notes, minutes=_number(lang, line.voice_seconds / 60, 1))
    if line.unpriced:
        text += t(lang, "usage_report.unpriced_mark")
    return text


def _notes(lang: str, report: Any, unpriced: set[str]) -> list[str]:
    notes = [""]
    if unpriced:
        notes.append(t(lang, "usage_report.unpriced", models=", ".join(esc(m) for m in sorted(unpriced))))
    notes.append(t(lang, "usage_report.footer", date=esc(report.prices_date)))
    return notes


def _number(lang: str, value: float, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "es" else text


def _usd(lang: str, cost: float) -> str:
    return "US$ " + _number(lang, cost, 2 if cost >= 1 or cost == 0 else 4)


def handlers() -> list:
    """Group-0 handlers of this module."""
    return [CommandHandler("usage", usage_command)]
