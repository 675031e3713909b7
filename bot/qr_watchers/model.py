"""Which admin chats watch which tenant's QR, and what a store of them must offer
(bot/qr_watchers/mongo.py and bot/qr_watchers/sqlite.py implement it). Kept in the store,
so that after a restart the next QR still replaces the same photo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class Watcher:
    """One admin chat waiting for a tenant's QR; `message_id` once the photo was sent."""

    chat_id: int
    lang: str
    message_id: int | None = None


class QrWatchers(Protocol):
    """One saved watcher per (tenant, admin chat)."""

    async def ensure_indexes(self) -> None: ...

    async def all(self) -> dict[str, dict[int, Watcher]]:
        """Every saved watcher: tenant -> admin chat id -> watcher."""
        ...

    async def save(self, tenant: str, watcher: Watcher) -> None:
        """Create or replace the watcher of this tenant and admin chat."""
        ...

    async def drop(self, tenant: str, chat_id: int | None = None) -> None:
        """Forget one admin chat's watcher of a tenant, or all of the tenant's (`chat_id` None)."""
        ...
