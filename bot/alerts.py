"""Alerts to every admin, once per change of state, with a button to the tenant's card."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from telegram import Bot, InlineKeyboardMarkup

from bot import callbacks as cb
from bot.delivery import with_retry
from bot.i18n import moment, t
from bot.qr_delivery import QrDelivery
from bot.replies import esc
from core.events import Alert, AlertKind

log = logging.getLogger("bot.alerts")


PENDING_LIMIT = 200  # alerts kept while Telegram is out of reach; the oldest go first


class AlertSender:
    """Bus handler for core.events.Alert: one message per admin, retried until it arrives.

    Alerts raised before the bot reached Telegram wait, and are sent when it does."""

    def __init__(self, admin_ids: tuple[int, ...], tenants, qr: QrDelivery, languages: dict[int, str]) -> None:
        self._admins = admin_ids
        self._tenants = tenants
        self._qr = qr
        self._languages = languages
        self._bot: Bot | None = None
        self._pending: list[Alert] = []

    async def bind(self, bot: Bot) -> None:
        """The Telegram bot to send with; the alerts that waited for it are sent now, in order."""
        self._bot = bot
        pending, self._pending = self._pending, []
        if pending:
            log.info("sending %d alert(s) raised while Telegram was out of reach", len(pending))
        for alert in pending:
            await self.on_alert(alert)

    async def on_alert(self, alert: Alert) -> None:
        """Send `alert` to every admin (in parallel, each with its own retries)."""
        if self._bot is None:
            log.info("alert %s for %s waits until Telegram is reached", alert.kind, alert.tenant)
            self._pending = [*self._pending, alert][-PENDING_LIMIT:]
            return
        tenant = await self._tenants.find(alert.tenant)
        name = tenant.name if tenant else alert.tenant
        # Admins watching the QR message see the timeout there already.
        skip = set(self._qr.watching(alert.tenant)) if alert.kind == AlertKind.QR_TIMEOUT else set()
        log.info("alert %s for tenant %s", alert.kind, alert.tenant)
        await asyncio.gather(*(self._send(admin, alert, name, tenant is not None)
                               for admin in self._admins if admin not in skip))

    async def _send(self, admin: int, alert: Alert, name: str, exists: bool) -> None:
        lang = self._languages.get(admin, "es")
        text = alert_text(lang, alert, name)
        markup = InlineKeyboardMarkup([[cb.button(t(lang, "btn.card", name=name[:40]), cb.CARD, alert.tenant)]]) \
            if exists else None
        bot = self._bot
        await with_retry(lambda: bot.send_message(admin, text, reply_markup=markup),
                         f"alert {alert.kind.value} for {alert.tenant} to admin {admin}")


def alert_text(lang: str, alert: Alert, name: str) -> str:
    """The alert in the admin's language, worded for its case (a temporary ban, a phone gone...)."""
    detail = alert.detail
    phone, until, error = detail.get("phone"), detail.get("until"), detail.get("error")
    chat = detail.get("chat", "")
    customer = chat.split("@")[0] if chat.endswith("@s.whatsapp.net") else ""
    return t(
        lang, _text_key(alert), name=f"<b>{esc(name)}</b>", slug=esc(alert.tenant),
        phone=f" (+{esc(phone)})" if phone else "",
        until=esc(moment(datetime.fromisoformat(until))) if until else "",
        customer=f" (+{esc(customer)})" if customer else "",
        error=t(lang, "alert.whatsapp_error", code=esc(error.split(":", 1)[0].strip()[:40])) if error else "",
        reason=esc(detail.get("reason") or "—"),
        spent=_money(lang, detail.get("spent", "")), budget=_money(lang, detail.get("budget", "")),
        month=esc(detail.get("month", "")), model=esc(detail.get("model", "")),
        file=esc(detail.get("file", "")), store=esc(detail.get("vector_store", "")),
    )


def _money(lang: str, amount: str) -> str:
    """`1.60` as the admin writes it (`1,60` in Spanish)."""
    return esc(amount.replace(".", ",") if lang == "es" else amount)


def _text_key(alert: Alert) -> str:
    reason = alert.detail.get("reason")
    if alert.kind == AlertKind.BANNED and reason == "temporarily_banned":
        return "alert.banned_until" if alert.detail.get("until") else "alert.banned_temporarily"
    if alert.kind == AlertKind.LOGGED_OUT and reason == "primary_device_gone":
        return "alert.primary_device_gone"
    if alert.kind == AlertKind.KNOWLEDGE_FAILED:  # bad_key, quota or rejected (tenants/knowledge)
        return f"alert.knowledge_{alert.detail.get('code', 'rejected')}"
    return f"alert.{alert.kind.value}"
