"""A pending customer message's audio or image, as every store back-end keeps it, and what a
media repository must offer (relay/message_media/mongo.py and sqlite.py implement it).

Media is kept only until its message's turn is settled, so that a restart can still answer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """A message's media as the bridge sent it."""

    data_base64: str
    mime: str

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> StoredMedia:
        return cls(data_base64=doc["data_base64"], mime=doc["mime"])


class MessageMedia(Protocol):
    """Media of pending messages, one record per (tenant, message id)."""

    async def ensure_indexes(self) -> None: ...

    async def put(self, tenant: str, message_id: str, media: StoredMedia, now: datetime) -> None:
        """Keep it (a repeated message id keeps the first copy)."""
        ...

    async def get(self, tenant: str, message_id: str) -> StoredMedia | None:
        """The message's media, or None."""
        ...

    async def delete(self, tenant: str, message_ids: list[str]) -> None:
        """Forget the media of these messages (their turn is settled)."""
        ...

    async def forget_old(self, cutoff: datetime) -> int:
        """Delete media received before `cutoff` (left by a crash between storing it and its
        message); how many."""
        ...

    async def delete_tenant(self, tenant: str) -> int:
        """Delete all of a tenant's media; how many."""
        ...
