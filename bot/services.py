"""What the bot's handlers call: the services it was given, reachable from any handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from core.clock import Clock
from core.events import WhatsAppState
from core.settings import Settings
from tenants.key_check import KeyCheck
from tenants.model import Tenant
from tenants.service import TenantService

if TYPE_CHECKING:
    from telegram.ext import ContextTypes

KeyChecker = Callable[[str], Awaitable[KeyCheck]]


class Login(Protocol):
    """relay.bridges.login.WhatsAppLogin, as the bot uses it."""

    async def request_qr(self, slug: str) -> None: ...

    async def pairing_code(self, slug: str, phone: str) -> str: ...

    async def logout(self, slug: str) -> None: ...


class States(Protocol):
    """relay.bridges.states.WhatsAppStates, as the bot uses it."""

    def get(self, slug: str) -> WhatsAppState: ...


class StatsSource(Protocol):
    """relay.stats.Stats, as the bot uses it."""

    async def tenant_summary(self, slug: str) -> Any: ...

    async def totals(self) -> Any: ...

    async def tenant_days(self, slug: str, days: list[str]) -> Any: ...


class UsageSource(Protocol):
    """relay.usage.UsageReport, as the bot uses it: this UTC month's usage and cost."""

    async def all_tenants(self) -> Any: ...

    async def cost_between(self, slug: str, first: str, last: str) -> float: ...

    async def tenant(self, slug: str) -> Any: ...

    async def tenant_csv(self, slug: str) -> str: ...

    async def spend(self, slug: str, day: str) -> Any: ...


class KnowledgeSource(Protocol):
    """tenants.knowledge.Knowledge, as the bot uses it."""

    def check_upload(self, name: str, size: int) -> None: ...

    async def view(self, slug: str) -> Any: ...

    async def add(self, slug: str, name: str, data: bytes) -> Any: ...

    async def wait_processed(self, slug: str, file_id: str) -> Any: ...

    async def remove(self, slug: str, file_id: str) -> None: ...

    async def attach(self, slug: str, vector_store_id: str) -> None: ...

    async def detach(self, slug: str, vector_store_id: str) -> None: ...


class QrPhotos(Protocol):
    """bot.qr_delivery.QrDelivery, as the handlers use it (a protocol, so that this module
    does not import the QR delivery, which imports the handlers' replies, which import this)."""

    async def watch(self, slug: str, chat_id: int, lang: str) -> bool: ...

    async def forget(self, slug: str, chat_id: int | None = None) -> None: ...


class Mailer(Protocol):
    """tenants.invites.InviteMailer, as the bot uses it."""

    async def send_invite(self, tenant: Tenant) -> None: ...


@dataclass
class BotServices:
    """Everything a handler may call; one per AdminBot, kept in application.bot_data."""

    settings: Settings
    tenants: TenantService
    login: Login
    states: States
    stats: StatsSource
    mailer: Mailer | None
    check_key: KeyChecker
    clock: Clock
    qr: QrPhotos
    usage: UsageSource | None = None
    knowledge: KnowledgeSource | None = None
    languages: dict[int, str] = field(default_factory=dict)  # admin id -> last language seen
    refused: dict[int, float] = field(default_factory=dict)  # stranger id -> when last refused (monotonic)

    def landing_link(self, tenant: Tenant) -> str | None:
        """The tenant's private landing page, on the tenant returned when the link was issued
        (created or re-issued); None otherwise: only the link's hash is stored."""
        return f"{self.settings.public_url}/c/{tenant.landing_token}" if tenant.landing_token else None


def services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    """The services of the bot that received this update."""
    return context.bot_data["services"]
