"""The assistant handing a chat to a person (its `handoff_to_human` tool).

The chat gets the same handoff pause the owner's own reply starts (so `reactivar` and the
owner's silence end it), the customer gets the model's words or the tenant's handoff_text,
the owner hears of it once in their own chat, and the operators when the tenant asks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.clock import Clock
from core.events import Alert, AlertKind
from relay.assistant import HANDOFF_TOOL, HandoffCall
from relay.chats import Chat, ChatRepository
from relay.handoffs import HandoffBy, HandoffLog
from relay.outbox import turn_ref
from relay.pipeline.owner import describe, owner_jid
from relay.pipeline.replies import ReplySender
from tenants.model import Tenant

log = logging.getLogger("relay.pipeline.handoff")


def handoff_tools(tenant: Tenant) -> list[dict] | None:
    """The tools a turn of this tenant offers the model: the handoff, when it is on."""
    return [HANDOFF_TOOL] if tenant.settings.ai_handoff else None


def owner_notice(chat: Chat, reason: str) -> str:
    """What the owner reads in their own chat when the assistant hands a chat to them."""
    why = reason or "sin motivo indicado"
    return (f"🙋 El asistente pasó a una persona el chat con {describe(chat)}.\nMotivo: {why}\n"
            "El bot ya no responde en ese chat. Escribe «reactivar» en ese chat para que vuelva a responder.")


class HandoffDesk:
    """Applies one handoff the model asked for, in the turn that asked."""

    def __init__(
        self, *, chats: ChatRepository, counts: HandoffLog, sender: ReplySender,
        owner_phone: Callable[[Tenant], str | None], alert: Callable[[Alert], None], clock: Clock,
    ) -> None:
        self._chats = chats
        self._counts = counts
        self._sender = sender
        self._owner_phone = owner_phone
        self._alert = alert
        self._clock = clock

    async def take(self, tenant: Tenant, chat_id: str, ids: list[str], call: HandoffCall, text: str) -> str:
        """Pause the chat as a handoff, tell the owner (and the operators) once, and return
        what the customer is sent: the model's own words, else the tenant's handoff_text."""
        slug = tenant.slug
        if await self._chats.start_handoff(slug, chat_id, self._clock.now()):
            log.info("tenant %s: the assistant handed a chat to a person", slug)
            await self._counts.record(slug, HandoffBy.ASSISTANT, self._clock.now())
            chat = await self._chats.get(slug, chat_id) or Chat(slug, chat_id)
            self._tell_owner(tenant, chat, ids, call.reason)
            if tenant.settings.notify_operator_on_handoff:
                self._alert(Alert(slug, AlertKind.AI_HANDOFF, {"chat": chat_id, "reason": call.reason}))
        return text or tenant.settings.handoff_text

    def _tell_owner(self, tenant: Tenant, chat: Chat, ids: list[str], reason: str) -> None:
        owner = owner_jid(self._owner_phone(tenant))
        if owner is None:
            log.warning("tenant %s: the owner's number is unknown; handoff notice not sent", tenant.slug)
            return
        # A ref of the turn's own: a turn answered again after a crash notifies once.
        self._sender.notice_soon(tenant.slug, owner, owner_notice(chat, reason), ref=f"h{turn_ref(tenant.slug, ids, 0)}")
