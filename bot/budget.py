"""/budget <slug> [<usd> [stop|fallback <model>] | off]: a tenant's monthly OpenAI budget,
shown with this month's spend, set or removed; and the budget line of the card and /stats."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.i18n import t
from bot.replies import actor, esc, lang_of, reply, tenant_from_args
from bot.services import BotServices, services
from tenants.budget import BudgetMonth, budget_month, tenant_zone
from tenants.errors import InvalidInput
from tenants.model import Tenant


async def budget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/budget <slug> [<usd> [stop|fallback <model>] | off]"""
    tenant = await tenant_from_args(update, context, "budget", more_ok=True)
    if tenant is None:
        return
    svc, lang, who = services(context), lang_of(update), actor(update)
    args = context.args[1:]
    try:
        if args and args[0].lower() == "off":
            tenant = await svc.tenants.clear_budget(tenant.slug, who)
        elif args:
            tenant = await svc.tenants.set_budget(tenant.slug, args, who)
    except InvalidInput as exc:
        await reply(update, t(lang, f"budget.bad_{exc.field}", example=esc(f"/budget {tenant.slug} 20")))
        return
    month, spent = await month_spend(svc, tenant)
    await reply(update, budget_view(lang, tenant, month, spent, saved=bool(args)))


async def month_spend(svc: BotServices, tenant: Tenant) -> tuple[BudgetMonth, float | None]:
    """The tenant's month (in its zone) and its spend so far; None when usage is not available."""
    zone = tenant_zone(tenant.hours.timezone if tenant.hours else None, svc.settings.default_timezone)
    month = budget_month(zone, svc.clock.now())
    if svc.usage is None:
        return month, None
    return month, await svc.usage.cost_between(tenant.slug, month.first_day, month.last_day)


def money(lang: str, amount: float) -> str:
    text = f"{amount:,.2f}"
    return "US$ " + (text.translate(str.maketrans(",.", ".,")) if lang == "es" else text)


def budget_line(lang: str, tenant: Tenant, month: BudgetMonth, spent: float | None) -> str:
    """`Gasto de 2026-12: US$ 4,00 de US$ 10,00 (40 %)`, or without a budget, the spend alone."""
    spend = money(lang, spent) if spent is not None else "—"
    if tenant.budget is None:
        return t(lang, "budget.spend", month=month.month, spend=spend)
    percent = f" ({spent / tenant.budget.usd:.0%})".replace("%", " %") if spent is not None else ""
    return t(lang, "budget.spend_of", month=month.month, spend=spend, budget=money(lang, tenant.budget.usd),
             percent=percent)


def budget_view(lang: str, tenant: Tenant, month: BudgetMonth, spent: float | None, *, saved: bool = False) -> str:
    """The budget, what happens at 100 %, and this month's spend against it."""
    budget, name = tenant.budget, esc(tenant.name)
    if budget is None:
        return "\n".join([t(lang, "budget.removed" if saved else "budget.none", name=name,
                            example=esc(f"/budget {tenant.slug} 20")), budget_line(lang, tenant, month, spent)])
    action = (t(lang, "budget.stop") if budget.action == "stop"
              else t(lang, "budget.fallback", model=esc(budget.fallback_model or "")))
    lines = [t(lang, "budget.saved" if saved else "budget.title", name=name, budget=money(lang, budget.usd)),
             action, budget_line(lang, tenant, month, spent)]
    if spent is not None and spent >= budget.usd:
        lines.append(t(lang, "budget.reached_stop" if budget.action == "stop" else "budget.reached_fallback"))
    return "\n".join(lines)


def handlers() -> list:
    """Group-0 handlers of this module."""
    return [CommandHandler("budget", budget_command)]


async def stats_lines(svc: BotServices, lang: str, tenants: list[Tenant]) -> str:
    """/stats' budget section: a line per tenant with a budget; empty without any."""
    lines = []
    for tenant in tenants:
        if tenant.budget is not None:
            lines.append(f"<code>{esc(tenant.slug)}</code> · " + budget_line(lang, tenant, *await month_spend(svc, tenant)))
    return "\n\n" + "\n".join([t(lang, "stats.budgets"), *lines]) if lines else ""
