"""The live bridge connections, one per tenant, and commands addressed by tenant."""

from __future__ import annotations

import asyncio

from relay.bridges.connection import BridgeConnection
from relay.bridges.errors import BridgeNotConnected


class Bridges:
    """Which tenant's bridge is connected right now; the pipeline sends through here."""

    def __init__(self) -> None:
        self._live: dict[str, BridgeConnection] = {}

    def connection(self, slug: str) -> BridgeConnection | None:
        """The tenant's live connection, if any."""
        conn = self._live.get(slug)
        return conn if conn is not None and not conn.closed else None

    def is_connected(self, slug: str) -> bool:
        """Whether the tenant's bridge is connected and welcomed."""
        return self.connection(slug) is not None

    def connected(self) -> list[str]:
        """The slugs of every tenant with a live bridge."""
        return sorted(slug for slug in self._live if self.is_connected(slug))

    def attach(self, conn: BridgeConnection) -> BridgeConnection | None:
        """Make `conn` the tenant's live connection; return the one it replaces."""
        previous = self._live.get(conn.tenant)
        self._live[conn.tenant] = conn
        return previous if previous is not conn else None

    def detach(self, conn: BridgeConnection) -> bool:
        """Forget `conn` if it is still the live one; True if it was."""
        if self._live.get(conn.tenant) is conn:
            del self._live[conn.tenant]
            return True
        return False

    async def wait_disconnected(self, slug: str, timeout: float) -> bool:
        """Wait until the tenant's connection is gone and its last frames were handled."""
        conn = self._live.get(slug)
        if conn is None:
            return True
        try:
            await asyncio.wait_for(conn.wait_finished(), timeout)
        except TimeoutError:
            return False
        return True

    def _require(self, slug: str) -> BridgeConnection:
        conn = self.connection(slug)
        if conn is None:
            raise BridgeNotConnected(slug)
        return conn

    async def send_text(self, slug: str, chat: str, text: str, ref: str, quote_id: str | None = None) -> str:
        """Send a text through the tenant's bridge; returns the WhatsApp message id."""
        return await self._require(slug).send_text(chat, text, ref, quote_id)

    async def typing(self, slug: str, chat: str, composing: bool) -> None:
        """Show or clear the typing indicator."""
        await self._require(slug).typing(chat, composing)

    async def read(self, slug: str, chat: str, ids: list[str]) -> None:
        """Mark messages read."""
        await self._require(slug).read(chat, ids)

    async def delete(self, slug: str, chat: str, message_id: str) -> None:
        """Delete for everyone a message the tenant's account sent."""
        await self._require(slug).delete(chat, message_id)

    async def ack(self, slug: str, message_id: str) -> None:
        """Acknowledge a recorded message to the tenant's bridge."""
        await self._require(slug).ack(message_id)

    async def pair(self, slug: str, phone: str) -> None:
        """Ask the tenant's bridge for a pairing code for `phone`."""
        await self._require(slug).pair(phone)

    async def logout(self, slug: str) -> None:
        """Unlink the tenant's WhatsApp and start a fresh login."""
        await self._require(slug).logout()

    async def shutdown(self, slug: str) -> None:
        """Ask the tenant's bridge to exit cleanly."""
        await self._require(slug).shutdown()
