"""The operators' daily digest: per tenant, yesterday's messages, new customers, handoffs,
OpenAI errors and spend, tenants whose WhatsApp is not connected first. Sent every day at
DIGEST_TIME (DEFAULT_TIMEZONE) to every admin, and now to whoever types /digest.

Counts are per UTC day, as the store keeps them; "yesterday" is the day before today's
date in DEFAULT_TIMEZONE.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, Update
from telegram.ext import CommandHandler, ContextTypes

from core.daily_job import DailyJob
from core.message_packing import pack
from bot.delivery import with_retry
from bot.i18n import t
from bot.replies import esc, lang_of
from bot.services import BotServices, services
from bot.usage import _usd
from tenants.model import Tenant

log = logging.getLogger("bot.digest")

MESSAGE_LIMIT = 4096  # Telegram's longest text message


class Digest:
    """Builds the digest and sends it: daily to every admin, or to one admin on /digest."""

    def __init__(self, svc: BotServices) -> None:
        self._svc = svc
        settings = svc.settings
        self._zone = zoneinfo.ZoneInfo(settings.default_timezone)
        self.daily = DailyJob(svc.clock, settings.digest_at, settings.default_timezone, self.run_digest,
                              name="daily-digest")
        self._bot: Bot | None = None

    def bind(self, bot: Bot) -> None:
        """The Telegram bot to send with (once it reached Telegram)."""
        self._bot = bot

    async def start(self) -> None:
        await self.daily.start()

    async def stop(self) -> None:
        await self.daily.stop()

    async def run_digest(self, now: datetime) -> None:
        """Send yesterday's digest (relative to `now`) to every admin, in their language."""
        bot = self._bot
        if bot is None:
            log.warning("daily digest not sent: Telegram is out of reach")
            return
        admins = self._svc.settings.telegram_admin_ids
        log.info("sending the daily digest to %d admin(s)", len(admins))
        for admin in admins:
            for part in await self.messages(self._svc.languages.get(admin, "es"), now):
                await with_retry(lambda admin=admin, part=part: bot.send_message(admin, part),
                                 f"digest to admin {admin}")

    def yesterday(self, now: datetime) -> str:
        return (now.astimezone(self._zone).date() - timedelta(days=1)).isoformat()

    async def messages(self, lang: str, now: datetime) -> list[str]:
        """The digest of the day before `now`, as messages within Telegram's limit."""
        day = self.yesterday(now)
        tenants = await self._svc.tenants.all()
        if not tenants:
            return [t(lang, "digest.title", day=day) + "\n\n" + t(lang, "digest.no_tenants")]
        down = sorted((x for x in tenants if self._svc.states.get(x.slug).state != "connected"), key=_slug)
        up = sorted((x for x in tenants if x not in down), key=_slug)
        blocks = [await self._block(lang, tenant, day, tenant in down) for tenant in down + up]
        return split_messages([t(lang, "digest.title", day=day), *blocks])

    async def _block(self, lang: str, tenant: Tenant, day: str, down: bool) -> str:
        counts = await self._svc.stats.tenant_days(tenant.slug, [day])
        head = f"<b>{esc(tenant.name)}</b> (<code>{esc(tenant.slug)}</code>)"
        if down:
            head = "🔴 " + head + " — " + t(lang, "digest.not_connected", state=esc(self._svc.states.get(tenant.slug).state))
        lines = [
            head,
            t(lang, "digest.messages", messages=counts.messages_in, answered=counts.answered),
            t(lang, "digest.new_customers", count=counts.new_customers),
            t(lang, "digest.handoffs", owner=counts.handoffs_by_owner, assistant=counts.handoffs_by_assistant,
              open=counts.open_handoffs),
            t(lang, "digest.errors", count=counts.openai_errors),
        ]
        if self._svc.usage is not None:
            lines.append(self._spend_line(lang, tenant, await self._svc.usage.spend(tenant.slug, day)))
        return "\n".join(lines)

    @staticmethod
    def _spend_line(lang: str, tenant: Tenant, spend: Any) -> str:
        line = t(lang, "digest.spend", day=_usd(lang, spend.day), month=_usd(lang, spend.month))
        budget = monthly_budget(tenant)
        if budget:
            line += t(lang, "digest.budget", budget=_usd(lang, budget), percent=round(100 * spend.month / budget))
        return line + (t(lang, "usage_report.unpriced_mark") if spend.unpriced else "")


def monthly_budget(tenant: Tenant) -> float | None:
    """The tenant's monthly budget in USD, if it has one (tenants/budget.py)."""
    budget = getattr(tenant, "budget", None)
    return budget.usd if budget is not None else None


def _slug(tenant: Tenant) -> str:
    return tenant.slug


def split_messages(blocks: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Blocks joined by blank lines into messages of at most `limit` characters, cut only
    between blocks; a block longer than `limit` alone is cut between its lines."""
    return pack((piece for block in blocks for piece in _lines_within(block, limit)), limit)


def _lines_within(block: str, limit: int) -> list[str]:
    """The block itself when it fits, else its lines packed into pieces of at most `limit`
    (a line longer than that is cut, never dropped)."""
    if len(block) <= limit:
        return [block]
    lines = (line[at:at + limit] for line in block.split("\n") for at in range(0, max(len(line), 1), limit))
    return pack(lines, limit, "\n")


async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/digest: yesterday's digest, now, to the admin who asked."""
    digest: Digest = context.bot_data["digest"]
    for part in await digest.messages(lang_of(update), services(context).clock.now()):
        await update.effective_chat.send_message(part)


def handlers() -> list:
    """Group-0 handlers of this module."""
    return [CommandHandler("digest", digest_command)]
