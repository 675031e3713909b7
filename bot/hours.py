"""/hours <slug> …: a tenant's opening hours, shown, set, removed, or closed dates added."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.i18n import t
from bot.replies import actor, esc, lang_of, reply, tenant_from_args
from bot.services import services
from tenants.errors import InvalidInput
from tenants.hours import status, when
from tenants.model import Tenant

CLOSED_WORDS = ("closed", "cerrado", "cerrados")
EXAMPLE = {"es": "America/Santiago lu-vi 09:00-18:00, sa 10:00-14:00",
           "en": "America/Santiago mon-fri 09:00-18:00, sat 10:00-14:00"}


async def hours_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hours <slug> [<timezone> <schedule> [answer|away] | off | closed <dates>]"""
    tenant = await tenant_from_args(update, context, "hours", more_ok=True)
    if tenant is None:
        return
    svc, lang, who = services(context), lang_of(update), actor(update)
    args = context.args[1:]
    head = args[0].lower() if args else None
    try:
        if head == "off":
            tenant = await svc.tenants.clear_hours(tenant.slug, who)
        elif head in CLOSED_WORDS:
            tenant = await svc.tenants.add_closed_dates(tenant.slug, args[1:], who)
        elif head is not None:
            tenant = await svc.tenants.set_hours(tenant.slug, args, who)
    except InvalidInput as exc:
        await reply(update, refusal(lang, tenant.slug, exc, args[0]))
        return
    await reply(update, hours_view(lang, tenant, svc.clock.now(), svc.settings.default_timezone,
                                   saved=head is not None))


def refusal(lang: str, slug: str, error: InvalidInput, first: str) -> str:
    """One line: what is wrong, and a correct example to copy."""
    if error.field in ("date", "hours"):
        example = f"/hours {slug} closed 24/12 25/12" if error.field == "date" else f"/hours {slug} {EXAMPLE[lang]}"
        key = "hours.bad_date" if error.field == "date" else "hours.needs_schedule"
        return t(lang, key, example=esc(example))
    key = "hours.bad_timezone" if error.field == "timezone" else "hours.bad_schedule"
    return t(lang, key, zone=esc(first), example=esc(f"/hours {slug} {EXAMPLE[lang]} away"))


def hours_view(lang: str, tenant: Tenant, now, default_zone: str, *, saved: bool = False) -> str:
    """The tenant's hours and whether it is open now."""
    hours, name = tenant.hours, esc(tenant.name)
    state = status(hours, tenant.hours_override, now)
    zone = hours.timezone if hours else default_zone
    if hours is None:
        lines = [t(lang, "hours.none", name=name, zone=esc(default_zone),
                   example=esc(f"/hours {tenant.slug} {EXAMPLE[lang]}"))]
    else:
        lines = [t(lang, "hours.saved" if saved else "hours.title", name=name, zone=esc(zone)),
                 f"<code>{esc(hours.describe(lang))}</code>",
                 t(lang, f"hours.mode.{hours.mode}")]
        if hours.closed:
            lines.append(t(lang, "hours.closed_dates", dates=", ".join(f"{d:%d/%m/%Y}" for d in hours.closed)))
    until = when(state.until, now, zone, lang) if state.until else None
    key = ("hours.open_now" if state.open else "hours.closed_now") + ("_until" if until else "")
    if hours is not None or state.manual:
        lines.append(t(lang, key, until=until or "", by=t(lang, "hours.by_owner") if state.manual else ""))
    return "\n".join(lines)


def handlers() -> list:
    """Group-0 handlers of this module."""
    return [CommandHandler("hours", hours_command)]
