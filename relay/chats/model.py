"""A customer chat of a tenant, as every store back-end keeps it, and what a chats
repository must offer (relay/chats/mongo.py and relay/chats/sqlite.py implement it).

A chat holds what must survive a restart: its OpenAI conversation, its pause (kind and
time) and when the customer, the owner and the bot last spoke in it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.clock import utc

# The per-chat "once an hour" notices (ChatRepository.claim_once_per_hour), and the away
# message sent once per closed period (claim_since).
CLAIMS = ("unsupported_at", "fallback_at", "media_lost_at", "away_at")


class PauseKind(enum.StrEnum):
    """Why the bot is not answering a chat."""

    MANUAL = "manual"  # the owner typed `pausar` in it
    ALL = "all"  # the owner typed `pausar todo`
    HANDOFF = "handoff"  # the owner wrote in it; resumes after handoff_hours of owner silence


def chat_key(tenant: str, chat: str) -> str:
    """The document id of a chat."""
    return f"{tenant}|{chat}"


def _when(value: Any) -> datetime | None:
    return utc(value) if isinstance(value, datetime) else None


@dataclass(frozen=True, slots=True)
class Chat:
    """One customer conversation of one tenant, as stored."""

    tenant: str
    chat: str
    name: str | None = None
    phone: str | None = None
    conversation_id: str | None = None
    pause_kind: PauseKind | None = None
    paused_at: datetime | None = None
    last_customer_at: datetime | None = None
    last_owner_at: datetime | None = None
    last_activity_at: datetime | None = None

    @property
    def paused(self) -> bool:
        return self.pause_kind is not None

    def handoff_expired(self, now: datetime, hours: float) -> bool:
        """A handoff pause whose owner has been silent for `hours`."""
        if self.pause_kind is not PauseKind.HANDOFF:
            return False
        since = self.last_owner_at or self.paused_at
        return since is None or since + timedelta(hours=hours) <= now

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Chat:
        kind = doc.get("pause_kind")
        return cls(
            tenant=doc["tenant"],
            chat=doc["chat"],
            name=doc.get("name"),
            phone=doc.get("phone"),
            conversation_id=doc.get("conversation_id"),
            pause_kind=PauseKind(kind) if kind else None,
            paused_at=_when(doc.get("paused_at")),
            last_customer_at=_when(doc.get("last_customer_at")),
            last_owner_at=_when(doc.get("last_owner_at")),
            last_activity_at=_when(doc.get("last_activity_at")),
        )


class ChatRepository(Protocol):
    """Stores chats; every write is one atomic upsert or conditional update."""

    async def ensure_indexes(self) -> None: ...

    async def get(self, tenant: str, chat: str) -> Chat | None: ...

    async def touch_customer(
        self, tenant: str, chat: str, now: datetime, name: str | None, phone: str | None,
    ) -> tuple[Chat, datetime | None]:
        """Record customer activity (creating the chat); return the chat as it is now and
        when the chat was last active before this (None for a new chat)."""
        ...

    async def touch_owner(self, tenant: str, chat: str, at: datetime, handoff: bool) -> Chat:
        """Record the owner writing at `at` (never moving it back); start a handoff pause if
        `handoff` and the chat is not paused."""
        ...

    async def start_handoff(self, tenant: str, chat: str, now: datetime) -> bool:
        """The assistant hands the chat to a person: a handoff pause from `now` if the chat
        is not paused (True then). The owner's silence counts from `now`, as if they had just
        written, so `reactivar` and handoff_hours end it as they end the owner's own."""
        ...

    async def set_conversation(self, tenant: str, chat: str, conversation_id: str) -> str:
        """Store the chat's conversation unless one is already there; return the one kept."""
        ...

    async def retire_conversation(self, tenant: str, chat: str, conversation_id: str) -> None:
        """Clear the conversation if it is still this one, and remember it for deletion."""
        ...

    async def retired_conversations(self, tenant: str) -> list[tuple[str, str]]: ...

    async def drop_retired(self, tenant: str, chat: str, conversation_id: str) -> None: ...

    async def forget_conversation(self, tenant: str, chat: str, conversation_id: str) -> None: ...

    async def pause(self, tenant: str, chat: str, kind: PauseKind, now: datetime) -> None: ...

    async def resume(self, tenant: str, chat: str) -> bool: ...

    async def resume_expired_handoff(self, tenant: str, chat: str, owner_silent_since: datetime) -> bool: ...

    async def pause_all(self, tenant: str, now: datetime) -> int: ...

    async def resume_all(self, tenant: str) -> int: ...

    async def paused(self, tenant: str, limit: int = 50) -> list[Chat]: ...

    async def count(self, tenant: str, *, paused: bool = False) -> int: ...

    async def idle_conversations(self, tenant: str, before: datetime | None = None) -> list[Chat]: ...

    async def expired_handoffs(self, tenant: str, owner_silent_since: datetime) -> int: ...

    async def claim_once_per_hour(self, tenant: str, chat: str, field: str, now: datetime) -> bool: ...

    async def claim_since(self, tenant: str, chat: str, field: str, since: datetime, now: datetime) -> bool:
        """True (and remember `now`) unless `field` was claimed at or after `since`."""
        ...

    async def forget_stale(self, before: datetime) -> int:
        """Delete chats that hold nothing any more (no conversation, retired or live, no
        pause) and were last active before `before`; how many."""
        ...

    async def delete_tenant(self, tenant: str) -> int: ...
