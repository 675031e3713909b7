"""The message log as every store back-end keeps it, and what a message log must offer
(relay/message_log/mongo.py and sqlite.py implement it).

Every message is recorded before it is acked. Per chat the log keeps the ids of its last
`SEEN_PER_CHAT` recorded messages (a repeated id among them is a duplicate, never a second
record), the customer and owner messages whose turn is not settled yet (their text until
then, so unanswered turns survive a restart), the ids of its last `FAILED_PER_CHAT` failed
turns, and its outbox (relay/outbox). Per tenant and UTC day it counts customer messages
(`in`) and answered ones (`answered`) for the stats.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from relay.protocol import Message

# Media above this size is not stored: after a restart such a turn is answered from its caption.
MAX_STORED_MEDIA = 4 * 1024 * 1024
# A repeated id is recognised among this many most recent messages of its chat: bridges
# resend within minutes, and WhatsApp's catch-up after a restart is hours, not hundreds of
# messages, old.
SEEN_PER_CHAT = 200
FAILED_PER_CHAT = 50
# The daily counters: customer messages recorded, and those whose turn was answered.
COUNTERS = ("in", "answered")
# The per-tenant daily counts are the long-lived stats: kept this many days (13 months, so
# a month can be compared with the same month a year before), whatever becomes of the
# chats' own logs (quiet chats go after a week).
STATS_DAYS = 400


class MessageStatus(enum.StrEnum):
    """How a customer message's turn ended."""

    ANSWERED = "answered"
    HELD = "held"  # not answered: paused chat, suspended bot
    FAILED = "failed"  # OpenAI failed for a transient reason; the fallback was sent
    IGNORED = "ignored"  # not for the bot: nothing to answer, unsupported kind


def day_of(moment: datetime) -> str:
    """The UTC day of a moment, as stored for per-day counts."""
    return moment.date().isoformat()  # "%Y-%m-%d", without strftime's C-library round trip


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """A recorded customer message whose turn is not answered yet."""

    tenant: str
    chat: str
    id: str
    kind: str
    text: str | None
    media_base64: str | None
    media_mime: str | None
    order: int
    owner: bool = False  # written on the owner's phone: a command or a handoff, not a turn
    sender: str | None = None
    at: datetime | None = None  # when it was written (the message's own time)

    def as_owner_message(self) -> Message:
        """The owner's message again, as the bridge delivered it (for OwnerDesk after a restart)."""
        timestamp = int(self.at.timestamp()) if self.at else 0
        return Message(type="message", id=self.id, chat=self.chat, sender=self.sender or self.chat, from_me=True,
                       sent_by_bridge=False, timestamp=timestamp, is_group=self.chat.endswith("@g.us"),
                       kind=self.kind, text=self.text)


class MessageLog(Protocol):
    """Records messages exactly once per (tenant, chat, message id)."""

    async def ensure_indexes(self) -> None:
        """Create what the log (and its outbox and media) rely on."""
        ...

    async def record(self, tenant: str, message: Any, *, customer: bool, now: datetime, owner: bool = False) -> bool:
        """Store `message` (a relay.protocol.Message); False if this id was already recorded.

        A customer message also waits as pending until `settle` (with its media, up to
        MAX_STORED_MEDIA) and counts as `in` for today, and so does one the owner wrote
        (`owner`), uncounted, so that a command acked just before a crash is still applied.
        A repeat writes nothing: resends do not push older ids out of the dedupe window.
        """
        ...

    async def settle(
        self, tenant: str, chat: str, ids: list[str], status: MessageStatus, now: datetime,
        reply: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """These messages' turn ended: they stop being pending (their media goes), answered
        ones are counted once, failed ones listed.

        `reply` holds outbox entries (relay.outbox.OutgoingText.entry) queued in this same
        write, so a reply is queued exactly when its messages count as answered: after a
        crash there is either a pending turn or a queued reply, never both.
        """
        ...

    async def pending(self, tenant: str, before_order: int | None = None) -> list[PendingMessage]:
        """The tenant's unanswered customer messages and unapplied owner messages, oldest
        first; only those recorded before `before_order` when given."""
        ...

    async def stranded(self, before_order: int) -> list[PendingMessage]:
        """Every tenant's pending messages recorded before `before_order` (time.time_ns()),
        oldest first: the sweep re-queues those that no lane or owner replay holds."""
        ...

    async def still_pending(self, tenant: str, chat: str, ids: list[str]) -> set[str]:
        """Which of these ids of one chat are still pending (a turn answers only those)."""
        ...

    async def pending_count(self, tenant: str | None = None) -> int:
        """How many messages are pending, of one tenant or of all."""
        ...

    async def recorded(self, tenant: str, ids: list[str]) -> set[str]:
        """Which of these ids are recorded (among each chat's recent ones)."""
        ...

    async def failed_ids(self, tenant: str) -> set[str]:
        """Ids of the tenant's recent messages whose turn gave up (the fallback was sent)."""
        ...

    async def count(self, field: str, days: list[str], tenant: str | None = None) -> int:
        """Sum of a daily counter (`in`: customer messages, `answered`) over these days, of
        one tenant or of all."""
        ...

    async def forget_old(self, now: datetime, days: int = 7) -> int:
        """Drop counters of days older than `days`, then chats quiet for `days` with nothing
        pending or queued and no counter left, and media left over from before then; how
        many chats went."""
        ...

    async def delete_tenant(self, tenant: str) -> int:
        """Delete all of a tenant's log, outbox, counters and media; how many chats went."""
        ...
