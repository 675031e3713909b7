"""The Telegram admin bot as one component of `puente run`: PTB driven by hand.

Telegram being out of reach never stops Puente: the relay, the bridges and the landing
pages run without it, while the bot keeps trying in the background (1 s doubling to 60 s,
one log line when it goes and one when it is back) and the alerts raised meanwhile wait
for it. A token Telegram refuses (401) is a configuration error: `fatal()` reports it.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, Defaults, TypeHandler

from bot import (
    commands,
    digest,
    hours,
    key_flow,
    knowledge,
    knowledge_upload,
    linking,
    newtenant,
    prompt_flow,
    settings_flow,
    tenant_actions,
    usage,
)
from bot.access import admin_gate
from bot.alerts import AlertSender
from bot.budget import handlers as budget_handlers
from bot.errors import on_error
from bot.i18n import command_list
from bot.qr_delivery import QrDelivery
from bot.qr_watchers import QrWatchers
from bot.services import BotServices, KeyChecker, KnowledgeSource, Login, Mailer, States, StatsSource, UsageSource
from core.bus import EventBus
from core.clock import Clock
from core.events import Alert, WhatsAppStateChanged
from core.settings import ConfigError, Settings
from core.tasks import cancel, spawn
from tenants.key_check import check_openai_key
from tenants.service import TenantService

log = logging.getLogger("bot")

POLL_TIMEOUT = 10.0
RECONNECT_DELAYS = (1.0, 60.0)  # first and longest wait between two attempts to reach Telegram


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
        usage: UsageSource | None = None,
        knowledge: KnowledgeSource | None = None,
        poll_timeout: float = POLL_TIMEOUT,
        reconnect_delays: tuple[float, float] = RECONNECT_DELAYS,
    ) -> None:
        self._settings = settings
        self._bus = bus
        self._poll_timeout = poll_timeout
        self._reconnect_delays = reconnect_delays
        self._reconnecting: asyncio.Task | None = None
        self._fatal: asyncio.Future[ConfigError] | None = None
        self.qr = QrDelivery(tenants, states, clock, qr_watchers)
        self.services = BotServices(
            settings=settings, tenants=tenants, login=login, states=states, stats=stats, mailer=mailer,
            check_key=check_key or functools.partial(check_openai_key, base_url=settings.openai_base_url),
            clock=clock, qr=self.qr, usage=usage, knowledge=knowledge,
        )
        self.alerts = AlertSender(settings.telegram_admin_ids, tenants, self.qr, self.services.languages)
        self.digest = digest.Digest(self.services)
        self.uploads = knowledge_upload.KnowledgeUploads()
        self._app: Application | None = None
        self._subscribed = False

    @property
    def is_polling(self) -> bool:
        """Whether updates are being fetched from Telegram (for /readyz)."""
        return bool(self._app and self._app.running and self._app.updater and self._app.updater.running)

    @property
    def reconnecting(self) -> bool:
        """Whether Telegram is out of reach and the bot keeps trying (for /readyz)."""
        return self._reconnecting is not None and not self._reconnecting.done()

    async def fatal(self) -> ConfigError:
        """Wait until Telegram refuses the token (never, while it accepts it)."""
        if self._fatal is None:
            self._fatal = asyncio.get_running_loop().create_future()
        return await asyncio.shield(self._fatal)

    async def start(self) -> None:
        """Reach Telegram and start polling, or keep trying in the background when it is out
        of reach. ConfigError when Telegram refuses the token."""
        if not self._settings.telegram_bot_token:
            raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
        if not self._subscribed:  # alerts wait in AlertSender until the bot reaches Telegram
            self._bus.subscribe("bot.qr", self.qr.on_state, WhatsAppStateChanged)
            self._bus.subscribe("bot.alerts", self.alerts.on_alert, Alert)
            self._subscribed = True
        await self.digest.start()  # due while Telegram is out of reach: skipped, with a log line
        try:
            await self._connect()
        except InvalidToken:
            raise _token_refused() from None
        except NetworkError as exc:
            log.warning("Telegram unreachable, retrying (%s)", exc)
            self._reconnecting = spawn(self._keep_trying(), name="admin-bot-reconnect")

    async def _keep_trying(self) -> None:
        delay, longest = self._reconnect_delays
        while True:
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except InvalidToken:
                log.error("Telegram refused the token (TELEGRAM_BOT_TOKEN)")
                self._report_fatal(_token_refused())
                return
            except NetworkError as exc:
                log.debug("Telegram still unreachable: %s", exc)
                delay = min(delay * 2, longest)
                continue
            log.info("Telegram back: the admin bot is polling")
            return

    def _report_fatal(self, error: ConfigError) -> None:
        if self._fatal is None:
            self._fatal = asyncio.get_running_loop().create_future()
        if not self._fatal.done():
            self._fatal.set_result(error)

    async def _connect(self) -> None:
        """One attempt: build PTB, reach Telegram, publish the menu, start polling."""
        app = self._build()
        try:
            await app.initialize()
        except BaseException:
            await app.shutdown()
            raise
        self._app = app
        self.qr.bind(app.bot)
        await self.qr.load()
        await self._publish_commands(app)
        await app.start()
        await app.updater.start_polling(
            timeout=self._poll_timeout, allowed_updates=["message", "callback_query"],
            error_callback=self._polling_error)
        log.info("admin bot polling for %d admin(s)", len(self._settings.telegram_admin_ids))
        self.digest.bind(app.bot)
        await self.alerts.bind(app.bot)  # and the alerts that waited are sent now

    async def stop(self) -> None:
        """Stop polling, then the application (pending updates are left for the next start)."""
        await cancel(self._reconnecting)
        self._reconnecting = None
        await self.digest.stop()
        await self.uploads.stop()
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
        app.bot_data["digest"] = self.digest
        app.bot_data["kb_uploads"] = self.uploads
        app.add_handler(TypeHandler(Update, admin_gate), group=-1)
        for handler in (commands.handlers() + tenant_actions.handlers() + linking.handlers() + budget_handlers()
                        + settings_flow.handlers() + hours.handlers() + usage.handlers() + digest.handlers()
                        + knowledge.handlers() + knowledge_upload.handlers()):
            app.add_handler(handler, group=0)
        app.add_handlers(commands.catch_alls(), group=0)
        flows = [newtenant.flow(), prompt_flow.flow(), key_flow.flow(), settings_flow.flow(), linking.pairing_flow(),
                 knowledge_upload.flow()]
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


def _token_refused() -> ConfigError:
    return ConfigError("TELEGRAM_BOT_TOKEN: Telegram refused this token (401 Unauthorized); "
                       "copy it again from @BotFather")
