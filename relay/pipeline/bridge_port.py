"""What the pipeline asks of the bridges (relay.bridges.Bridges fits this)."""

from __future__ import annotations

from typing import Protocol

from core.events import WhatsAppState


class BridgeCommands(Protocol):
    """Commands to a tenant's bridge, addressed by slug; raise relay.bridges.errors.BridgeError."""

    async def send_text(self, slug: str, chat: str, text: str, ref: str, quote_id: str | None = None) -> str: ...

    async def typing(self, slug: str, chat: str, composing: bool) -> None: ...

    async def read(self, slug: str, chat: str, ids: list[str]) -> None: ...

    async def delete(self, slug: str, chat: str, message_id: str) -> None: ...

    async def ack(self, slug: str, message_id: str) -> None: ...

    def is_connected(self, slug: str) -> bool: ...

    def connection(self, slug: str) -> LiveConnection | None: ...


class LiveConnection(Protocol):
    """A tenant's live bridge connection, as far as the pipeline closes it."""

    async def close(self, code: int, reason: str = "") -> None: ...


class StateSource(Protocol):
    """Where the owner's phone number comes from (relay.bridges.states.WhatsAppStates)."""

    def get(self, slug: str) -> WhatsAppState: ...
