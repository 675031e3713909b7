"""The chats repository on MongoDB: one document per (tenant, WhatsApp chat)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from core.clock import utc
from relay.chats.model import CLAIMS, Chat, PauseKind, chat_key


def _new_chat(tenant: str, chat: str) -> dict[str, Any]:
    return {"tenant": tenant, "chat": chat, "conversation_id": None, "pause_kind": None}


def _upsert_update(tenant: str, chat: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Set `changes`, and the defaults they leave out when the chat is new."""
    defaults = {name: value for name, value in _new_chat(tenant, chat).items() if name not in changes}
    return {"$set": changes, "$setOnInsert": defaults}


class MongoChats:
    """Chats on MongoDB; every write is one upsert or one conditional update."""

    COLLECTION = "chats"
    INDEXES = [
        # Not unique: the _id (chat_key) already makes (tenant, chat) unique, and a unique
        # secondary index makes every write scan the collection on the embedded store.
        IndexModel([("tenant", ASCENDING), ("chat", ASCENDING)], name="tenant_chat"),
        IndexModel([("tenant", ASCENDING), ("pause_kind", ASCENDING)], name="tenant_pause"),
        IndexModel([("tenant", ASCENDING), ("last_activity_at", ASCENDING)], name="tenant_activity"),
        IndexModel([("last_activity_at", ASCENDING)], name="activity"),  # the retention sweep
    ]

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db[self.COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._col.create_indexes(self.INDEXES)

    async def get(self, tenant: str, chat: str) -> Chat | None:
        doc = await self._col.find_one({"_id": chat_key(tenant, chat)})
        return Chat.from_doc(doc) if doc else None

    async def touch_customer(
        self, tenant: str, chat: str, now: datetime, name: str | None, phone: str | None,
    ) -> tuple[Chat, datetime | None]:
        """Record customer activity (creating the chat); return the chat as it is now and
        when the chat was last active before this (None for a new chat)."""
        changes: dict[str, Any] = {"last_customer_at": now, "last_activity_at": now}
        if name:
            changes["name"] = name
        if phone:
            changes["phone"] = phone
        before = await self._col.find_one_and_update(
            {"_id": chat_key(tenant, chat)}, _upsert_update(tenant, chat, changes), upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        previous = before.get("last_activity_at") if before else None
        previous = utc(previous) if isinstance(previous, datetime) else None
        return Chat.from_doc({**(before or _new_chat(tenant, chat)), **changes}), previous

    async def touch_owner(self, tenant: str, chat: str, at: datetime, handoff: bool) -> Chat:
        """Record the owner writing in a chat at `at` (the message's own time); start a
        handoff pause if it is not paused. A late-processed older message never moves the
        owner's last activity back."""
        doc = await self._col.find_one_and_update(
            {"_id": chat_key(tenant, chat)},
            {"$max": {"last_owner_at": at, "last_activity_at": at},
             "$setOnInsert": _new_chat(tenant, chat)},
            upsert=True, return_document=ReturnDocument.AFTER,
        )
        chat_doc = Chat.from_doc(doc)
        if handoff and chat_doc.pause_kind is None:
            doc = await self._col.find_one_and_update(
                {"_id": chat_key(tenant, chat), "pause_kind": None},
                {"$set": {"pause_kind": PauseKind.HANDOFF.value, "paused_at": at}},
                return_document=ReturnDocument.AFTER,
            )
            if doc:
                return Chat.from_doc(doc)
        return chat_doc

    async def start_handoff(self, tenant: str, chat: str, now: datetime) -> bool:
        """A handoff pause from `now` unless the chat is paused; the owner's silence counts from `now`."""
        await self._col.update_one({"_id": chat_key(tenant, chat)}, {"$setOnInsert": _new_chat(tenant, chat)},
                                   upsert=True)
        result = await self._col.update_one(
            {"_id": chat_key(tenant, chat), "pause_kind": None},
            {"$set": {"pause_kind": PauseKind.HANDOFF.value, "paused_at": now}, "$max": {"last_owner_at": now}},
        )
        return result.modified_count == 1

    async def set_conversation(self, tenant: str, chat: str, conversation_id: str) -> str:
        """Store the chat's conversation unless one is already there; return the one kept."""
        doc = await self._col.find_one_and_update(
            {"_id": chat_key(tenant, chat), "conversation_id": None},
            {"$set": {"conversation_id": conversation_id}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            doc = await self._col.find_one({"_id": chat_key(tenant, chat)})
        return (doc or {}).get("conversation_id") or conversation_id

    async def retire_conversation(self, tenant: str, chat: str, conversation_id: str) -> None:
        """The chat was quiet longer than the memory window: its next turn starts a new
        conversation, and the cleanup deletes this one at OpenAI."""
        await self._col.update_one(
            {"_id": chat_key(tenant, chat), "conversation_id": conversation_id},
            {"$set": {"conversation_id": None}, "$push": {"retired_conversations": conversation_id}},
        )

    async def retired_conversations(self, tenant: str) -> list[tuple[str, str]]:
        """(chat, conversation id) pairs waiting to be deleted at OpenAI."""
        cursor = self._col.find({"tenant": tenant, "retired_conversations.0": {"$exists": True}},
                                {"chat": 1, "retired_conversations": 1})
        return [(doc["chat"], conversation) async for doc in cursor for conversation in doc["retired_conversations"]]

    async def drop_retired(self, tenant: str, chat: str, conversation_id: str) -> None:
        await self._col.update_one({"_id": chat_key(tenant, chat)}, {"$pull": {"retired_conversations": conversation_id}})

    async def forget_conversation(self, tenant: str, chat: str, conversation_id: str) -> None:
        """Clear the conversation id if it is still this one (the next turn starts anew)."""
        await self._col.update_one(
            {"_id": chat_key(tenant, chat), "conversation_id": conversation_id},
            {"$set": {"conversation_id": None}},
        )

    async def pause(self, tenant: str, chat: str, kind: PauseKind, now: datetime) -> None:
        await self._upsert(tenant, chat, {"pause_kind": kind.value, "paused_at": now})

    async def resume(self, tenant: str, chat: str) -> bool:
        """Clear the chat's pause; True if it was paused."""
        result = await self._col.update_one(
            {"_id": chat_key(tenant, chat), "pause_kind": {"$ne": None}},
            {"$set": {"pause_kind": None, "paused_at": None}},
        )
        return result.modified_count == 1

    async def resume_expired_handoff(self, tenant: str, chat: str, owner_silent_since: datetime) -> bool:
        """Clear the chat's pause only if it is still a handoff whose owner has been silent
        since `owner_silent_since`; a `pausar` or an owner's reply landing meanwhile wins."""
        silent = {"$or": [
            {"last_owner_at": {"$lte": owner_silent_since}},
            {"last_owner_at": None, "paused_at": {"$lte": owner_silent_since}},
            {"last_owner_at": None, "paused_at": None},
        ]}
        result = await self._col.update_one(
            {"_id": chat_key(tenant, chat), "pause_kind": PauseKind.HANDOFF.value, **silent},
            {"$set": {"pause_kind": None, "paused_at": None}},
        )
        return result.modified_count == 1

    async def pause_all(self, tenant: str, now: datetime) -> int:
        """Pause every chat not paused by hand (handoffs become `all`, so they do not expire)."""
        result = await self._col.update_many(
            {"tenant": tenant, "pause_kind": {"$ne": PauseKind.MANUAL.value}},
            {"$set": {"pause_kind": PauseKind.ALL.value, "paused_at": now}},
        )
        return result.modified_count

    async def resume_all(self, tenant: str) -> int:
        result = await self._col.update_many(
            {"tenant": tenant, "pause_kind": {"$ne": None}}, {"$set": {"pause_kind": None, "paused_at": None}}
        )
        return result.modified_count

    async def paused(self, tenant: str, limit: int = 50) -> list[Chat]:
        cursor = self._col.find({"tenant": tenant, "pause_kind": {"$ne": None}}).sort("paused_at", ASCENDING)
        return [Chat.from_doc(doc) async for doc in cursor.limit(limit)]

    async def count(self, tenant: str, *, paused: bool = False) -> int:
        query: dict[str, Any] = {"tenant": tenant}
        if paused:
            query["pause_kind"] = {"$ne": None}
        return await self._col.count_documents(query)

    async def idle_conversations(self, tenant: str, before: datetime | None = None) -> list[Chat]:
        """Chats holding a conversation with no activity since `before` (any chat holding one
        when `before` is None)."""
        query: dict[str, Any] = {"tenant": tenant, "conversation_id": {"$ne": None}}
        if before is not None:
            query["last_activity_at"] = {"$lt": before}
        return [Chat.from_doc(doc) async for doc in self._col.find(query)]

    async def expired_handoffs(self, tenant: str, owner_silent_since: datetime) -> int:
        """Resume handoff pauses whose owner has been silent since `owner_silent_since`."""
        result = await self._col.update_many(
            {"tenant": tenant, "pause_kind": PauseKind.HANDOFF.value, "last_owner_at": {"$lt": owner_silent_since}},
            {"$set": {"pause_kind": None, "paused_at": None}},
        )
        return result.modified_count

    async def claim_once_per_hour(self, tenant: str, chat: str, field: str, now: datetime) -> bool:
        """True (and remember `now`) unless `field` was claimed within the last hour."""
        if field not in CLAIMS:
            raise ValueError(f"unknown claim {field!r}")
        result = await self._col.update_one(
            {"_id": chat_key(tenant, chat), "$or": [{field: None}, {field: {"$lte": now - timedelta(hours=1)}}]},
            {"$set": {field: now}},
        )
        return result.modified_count == 1

    async def claim_since(self, tenant: str, chat: str, field: str, since: datetime, now: datetime) -> bool:
        """True (and remember `now`) unless `field` was claimed at or after `since`."""
        if field not in CLAIMS:
            raise ValueError(f"unknown claim {field!r}")
        result = await self._col.update_one(
            {"_id": chat_key(tenant, chat), "$or": [{field: None}, {field: {"$lt": since}}]}, {"$set": {field: now}})
        return result.modified_count == 1

    async def forget_stale(self, before: datetime) -> int:
        result = await self._col.delete_many({
            "last_activity_at": {"$lt": before}, "conversation_id": None, "pause_kind": None,
            "retired_conversations.0": {"$exists": False},
        })
        return result.deleted_count

    async def delete_tenant(self, tenant: str) -> int:
        return (await self._col.delete_many({"tenant": tenant})).deleted_count

    async def _upsert(self, tenant: str, chat: str, changes: dict[str, Any]) -> Chat:
        doc = await self._col.find_one_and_update(
            {"_id": chat_key(tenant, chat)}, _upsert_update(tenant, chat, changes), upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return Chat.from_doc(doc)
