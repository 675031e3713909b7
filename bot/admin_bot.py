"""The Telegram admin bot as one component of `puente run`: PTB driven by hand."""

from __future__ import annotations

import functools
import logging

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, Defaults, TypeHandler

from bot import commands, key_flow, linking, newtenant, prompt_flow, settings_flow, tenant_actions
from bot.access import admin_gate
from bot.alerts import AlertSender
from bot.errors import on_error
from bot.i18n import command_list
from bot.qr_delivery import QrDelivery
from bot.qr_watchers import QrWatchers
from bot.services import BotServices, KeyChecker, Login, Mailer, States, StatsSource
from core.bus import EventBus
from core.clock import Clock
from core.events import Alert, WhatsAppStateChanged
from core.settings import Settings
from tenants.key_check import check_openai_key
from tenants.service import TenantService

log = logging.getLogger("bot")

POLL_TIMEOUT = 10.0


class AdminBot:
    """The operators' Telegram bot: commands, flows, QR photos and alerts."""

    def __init__(
        self,
        settings: Settings,
        tenants: TenantService,
        bus: EventBus,
        login: Login,
        states: States,
        stats: StatsSource,
        mailer: Mailer | None,
        clock: Clock,
        check_key: KeyChecker | None = None,
        *,
        qr_watchers: QrWatchers | None = None,
        poll_timeout: float = POLL_TIMEOUT,
    ) -> None:
        self._settings = settings
        self._bus = bus
        self._poll_timeout = poll_timeout
        self.qr = QrDelivery(tenants, states, clock, qr_watchers)
        self.services = BotServices(
            settings=settings, tenants=tenants, login=login, states=states, stats=stats, mailer=mailer,
            check_key=check_key or functools.partial(check_openai_key, base_url=settings.openai_base_url),
            clock=clock, qr=self.qr,
        )
        self.alerts = AlertSender(settings.telegram_admin_ids, tenants, self.qr, self.services.languages)
        self._app: Application | None = None
        self._subscribed = False

    @property
    def is_polling(self) -> bool:
        """Whether updates are being fetched from Telegram (for /readyz)."""
        return bool(self._app and self._app.running and self._app.updater and self._app.updater.running)

    async def start(self) -> None:
        """Build PTB, register the handlers, publish the command menu and start polling."""
        if not self._settings.telegram_bot_token:
            raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
        app = self._build()
        self._app = app
        await app.initialize()
        self.qr.bind(app.bot)
        self.alerts.bind(app.bot)
        await self.qr.load()
        if not self._subscribed:
            self._bus.subscribe("bot.qr", self.qr.on_state, WhatsAppStateChanged)
            self._bus.subscribe("bot.alerts", self.alerts.on_alert, Alert)
            self._subscribed = True
        await self._publish_commands(app)
        await app.start()
        await app.updater.start_polling(
            timeout=self._poll_timeout, allowed_updates=["message", "callback_query"],
            error_callback=self._polling_error)
        log.info("admin bot polling for %d admin(s)", len(self._settings.telegram_admin_ids))

    async def stop(self) -> None:
        """Stop polling, then the application (pending updates are left for the next start)."""
        app, self._app = self._app, None
        if app is None:
            return
        if app.updater and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    def _build(self) -> Application:
        api = self._settings.telegram_api_url
        app = (
            Application.builder()
            .token(self._settings.telegram_bot_token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .rate_limiter(AIORateLimiter(max_retries=3))
            .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
            .get_updates_read_timeout(self._poll_timeout + 10)
            .build()
        )
        app.bot_data["services"] = self.services
        app.add_handler(TypeHandler(Update, admin_gate), group=-1)
        for handler in commands.handlers() + tenant_actions.handlers() + linking.handlers() + settings_flow.handlers():
            app.add_handler(handler, group=0)
        app.add_handlers(commands.catch_alls(), group=0)
        flows = [newtenant.flow(), prompt_flow.flow(), key_flow.flow(), settings_flow.flow(), linking.pairing_flow()]
        for group, flow in enumerate(flows, start=1):
            app.add_handler(flow, group=group)
        app.add_error_handler(on_error)
        return app

    async def _publish_commands(self, app: Application) -> None:
        """The command menu, only in the admins' chats, in Spanish and English."""
        for admin in self._settings.telegram_admin_ids:
            scope = BotCommandScopeChat(admin)
            try:
                for lang in ("es", "en"):
                    menu = [BotCommand(name, text) for name, text in command_list(lang)]
                    await app.bot.set_my_commands(menu, scope=scope, language_code=None if lang == "es" else "en")
            except TelegramError as exc:
                # An admin who never opened the bot has no chat yet; the menu can wait.
                log.warning("could not set the command menu for admin %s: %s", admin, exc)

    def _polling_error(self, error: TelegramError) -> None:
        log.warning("polling Telegram failed: %s", error)
