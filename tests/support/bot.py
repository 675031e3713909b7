"""The admin bot assembled for tests: real PTB polling a FakeTelegram, the real relay side
(endpoint, states, login) for FakeBridges to connect to, FakeOpenAI for key checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.admin_bot import AdminBot
from bot.qr_watchers import open_qr_watchers
from core.clock import Clock, SystemClock
from core.events import WhatsAppStateChanged
from core.settings import Settings
from relay.stats import Stats
from relay.usage import UsageReport, open_usage, shipped_prices
from tenants.invites import InviteMailer
from tenants.knowledge import Knowledge, open_knowledge
from tenants.service import NewTenant
from tests.fakes import FakeBridge, FakeOpenAI, FakeTelegram
from tests.fakes.telegram_model import ChatMessage
from tests.support.bridges import RelaySide

ADMIN = 111
OTHER_ADMIN = 222
STRANGER = 999_000
VALID_KEY = "sk-test-" + "k" * 32
BAD_KEY = "sk-wrong-" + "z" * 32


class BotRig:
    """Everything the admin bot talks to, started and stopped together."""

    def __init__(self, store, data_dir: Path, *, smtp_port: int | None = None, clock: Clock | None = None,
                 settings: dict[str, Any] | None = None) -> None:
        self.telegram = FakeTelegram()
        self.openai = FakeOpenAI()
        self.clock = clock or SystemClock()
        self.relay = RelaySide(store, self.clock, data_dir)
        self.store = store
        self.data_dir = data_dir
        self.smtp_port = smtp_port
        self.bridges: list[FakeBridge] = []
        self.overrides = settings or {}  # more Settings for the bot (DIGEST_TIME, DEFAULT_TIMEZONE...)
        self.bot: AdminBot | None = None

    @property
    def tenants(self):
        return self.relay.tenants

    async def start(self) -> BotRig:
        await self.telegram.start()
        await self.openai.start()
        await self.relay.start()
        smtp = {"smtp_host": "127.0.0.1", "smtp_port": self.smtp_port, "smtp_from": "puente@example.com",
                "smtp_security": "none"} if self.smtp_port else {}
        self.settings = Settings(
            telegram_bot_token=self.telegram.token, telegram_admin_ids=(ADMIN, OTHER_ADMIN),
            telegram_api_url=self.telegram.url, public_url="https://puente.example",
            openai_base_url=f"{self.openai.url}/v1", data_dir=self.data_dir, bridge_command="", **smtp,
            **self.overrides,
        )
        mailer = InviteMailer(self.settings) if self.smtp_port else None
        qr_watchers = open_qr_watchers(self.store.db)
        stats = Stats(self.store.db, self.clock)
        self.usage = open_usage(self.store.db)  # what the pipeline records, read by /usage
        knowledge_repo = open_knowledge(self.store.db)
        for repo in (qr_watchers, *stats.repositories, self.usage, knowledge_repo):
            await repo.ensure_indexes()
        self.knowledge = Knowledge(knowledge_repo, self.relay.tenants, self.clock, base_url=f"{self.openai.url}/v1",
                                   poll_interval=0.02, poll_timeout=5.0)
        self.bot = AdminBot(self.settings, self.relay.tenants, self.relay.bus, self.relay.login, self.relay.states,
                            stats, mailer, self.clock,
                            qr_watchers=qr_watchers, poll_timeout=1,
                            usage=UsageReport(self.usage, shipped_prices(), self.clock), knowledge=self.knowledge)
        await self.bot.start()
        return self

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
        for bridge in self.bridges:
            await bridge.stop()
        await self.relay.stop()
        await self.openai.stop()
        await self.telegram.stop()

    # --- driving ---------------------------------------------------------------------

    async def say(self, text: str, user: int = ADMIN, *, lang: str = "es") -> ChatMessage:
        """The admin writes `text`; wait until the bot answered with a new message."""
        before = len(self.telegram.messages_in(user))
        self.telegram.push_message(user, text, language_code=lang)
        return await self.telegram.wait_for_message(
            user, lambda m: m in self.telegram.messages_in(user)[before:], timeout=10)

    async def tap(self, message: ChatMessage, button: str, user: int = ADMIN) -> ChatMessage:
        """The admin taps a button; wait until the bot answered (new message or edit)."""
        before = len(self.telegram.messages_in(user))
        edits = len(message.edits)
        self.telegram.push_callback(user, message.message_id, message.callback_data(button))
        return await self.telegram.wait_for_message(
            user, lambda m: m in self.telegram.messages_in(user)[before:] or
            (m is message and len(m.edits) > edits), timeout=5)

    async def send_document(self, data: bytes, file_name: str, caption: str | None = None, *, user: int = ADMIN,
                            lang: str = "es", mime_type: str = "application/pdf",
                            file_size: int | None = None) -> ChatMessage:
        """The admin sends a document (captioned or not); wait until the bot answered with a new message."""
        before = len(self.telegram.messages_in(user))
        self.telegram.push_document(user, data, file_name, mime_type=mime_type, caption=caption,
                                    file_size=file_size, language_code=lang)
        return await self.telegram.wait_for_message(
            user, lambda m: m in self.telegram.messages_in(user)[before:], timeout=10)

    async def wait_for(self, predicate, user: int = ADMIN, timeout: float = 5.0) -> ChatMessage:
        return await self.telegram.wait_for_message(user, predicate, timeout=timeout)

    async def add_tenant(self, slug: str, name: str = "Tienda Sol", email: str | None = None) -> Any:
        return await self.tenants.create(NewTenant(slug, name, VALID_KEY, email=email), "test")

    async def connect_bridge(self, slug: str, *, state: str = "waiting_qr") -> FakeBridge:
        """A fake bridge for the tenant, connected to the real relay endpoint."""
        token = await self.tenants.issue_bridge_token(slug)
        bridge = FakeBridge(self.relay.url, slug, token, state=state, phone="56911112222")
        await bridge.start()
        self.bridges.append(bridge)
        await self.relay.events.wait_for(WhatsAppStateChanged, tenant=slug)
        return bridge
