"""What the owner types on their own phone: commands, documents to learn (`aprende`), or
taking over a chat (handoff).

Confirmations and reports go to the owner's own chat ("Message yourself"), never to a
customer; a command typed in a customer chat is then deleted for everyone.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import mimetypes
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath

from core.clock import Clock
from core.events import Alert, AlertKind
from core.tasks import spawn
from relay.bridges.errors import BridgeError
from relay.chats import Chat, ChatRepository, PauseKind
from relay.handoffs import HandoffBy, HandoffLog
from relay.outbox import command_ref
from relay.pipeline.bridge_port import BridgeCommands, StateSource
from relay.pipeline.commands import Command, parse_command
from relay.pipeline.hours import owner_open_or_close, status_line
from relay.pipeline.replies import ReplySender
from relay.pipeline.tenant_cache import TenantCache
from relay.protocol import Message
from tenants.knowledge import MAX_FILES, Knowledge, KnowledgeError, KnowledgeFile
from tenants.model import Tenant
from tenants.service import TenantService

log = logging.getLogger("relay.pipeline.owner")

ONLY_IN_CUSTOMER_CHAT = (
    "Este comando se usa dentro del chat de un cliente: escribe «pausar» o «reactivar» en ese chat."
)
LEARN_HOW = "Para que el bot aprenda un documento, envíalo a este chat con la descripción «aprende»."
# What OpenAI file search reads (tenants.knowledge.ACCEPTED_EXTENSIONS), as the owner knows it.
LEARNABLE = "PDF, Word (.docx), PowerPoint (.pptx), texto (.txt, .md), HTML, JSON o código"
# The most a document may weigh to arrive from WhatsApp (the bridge's media limit).
WHATSAPP_DOCUMENT_MB = 14
# Failures the operators hear about: the owner cannot fix them alone.
_ALERTED = {"bad_key", "quota", "rejected"}
_PAUSE_LABELS = {PauseKind.MANUAL: "pausado por ti", PauseKind.ALL: "pausa general", PauseKind.HANDOFF: "lo atiendes tú"}


def owner_jid(phone: str | None) -> str | None:
    return f"{phone}@s.whatsapp.net" if phone else None


def is_self_chat(phone: str | None, message: Message) -> bool:
    """The owner's own chat: their number's JID, or a chat whose author is the chat itself."""
    if phone and message.chat == owner_jid(phone):
        return True
    return message.from_me and bool(message.sender) and message.chat == message.sender


def describe(chat: Chat) -> str:
    """How a chat is named to the owner: name and phone when known."""
    phone = chat.phone or chat.chat.split("@")[0]
    return f"{chat.name} (+{phone})" if chat.name else f"+{phone}"


class OwnerDesk:
    """Applies owner commands and handoffs for one message written from the owner's phone."""

    def __init__(
        self, *, chats: ChatRepository, tenants: TenantService, cache: TenantCache, sender: ReplySender,
        bridges: BridgeCommands, states: StateSource | None, clock: Clock, handoffs: HandoffLog | None = None,
        knowledge: Knowledge | None = None, alert: Callable[[Alert], None] | None = None,
    ) -> None:
        self._chats = chats
        self._tenants = tenants
        self._cache = cache
        self._sender = sender
        self._bridges = bridges
        self._states = states
        self._clock = clock
        self._handoffs = handoffs
        self._knowledge = knowledge
        self._alert = alert or (lambda _alert: None)
        self._background: set[asyncio.Task] = set()

    @property
    def background(self) -> set[asyncio.Task]:
        """Command deletions and documents being learned (the pipeline cancels them when it stops)."""
        return self._background

    def busy(self) -> int:
        """Command deletions and documents being learned."""
        return len(self._background)

    def owner_phone(self, tenant: Tenant) -> str | None:
        """The account's own number (digits), from the live state or the stored one."""
        live = self._states.get(tenant.slug).phone if self._states is not None else None
        return live or tenant.whatsapp.phone

    async def handle(self, tenant: Tenant, message: Message) -> None:
        """One message the owner wrote (from_me, not sent by the bridge).

        Stamped with the message's own time, not the time it is handled: after an outage a
        handoff runs from when the owner really wrote. Confirmations and the deletion of the
        command go out in the background, so the tenant's inbox never waits for the bridge.
        """
        phone = self.owner_phone(tenant)
        self_chat = is_self_chat(phone, message)
        at = message.written_at(self._clock.now())
        command = _command(message, self_chat)
        if command is None:
            if not self_chat:
                await self._took_over(tenant, message.chat, at)
            return
        reply_to = owner_jid(phone) or (message.chat if self_chat else None)
        if command is Command.LEARN and message.kind == "document":
            # Uploading and OpenAI's processing take a while: never in the tenant's inbox.
            self._in_background(self._learn(tenant, message, reply_to), f"learn:{tenant.slug}")
            return
        text = await self._apply(tenant, command, None if self_chat else message.chat, at)
        log.info("tenant %s: owner command %s", tenant.slug, command.value)
        if reply_to is None:
            log.warning("tenant %s: the owner's number is unknown; confirmation not sent", tenant.slug)
        else:
            # A ref of the command's own: applied again after a crash, it is confirmed once.
            self._sender.notice_soon(tenant.slug, reply_to, text, ref=command_ref(tenant.slug, message.id))
        if not self_chat and tenant.settings.delete_owner_commands:
            self._in_background(self._delete(tenant.slug, message.chat, message.id), f"delete:{tenant.slug}")

    def _in_background(self, coro, name: str) -> None:
        task = spawn(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _learn(self, tenant: Tenant, message: Message, reply_to: str | None) -> None:
        """Add an own-chat document to the tenant's knowledge, wait for OpenAI to process it,
        and confirm in the own chat in one line; the operators hear of what the owner cannot fix."""
        name = document_name(message)
        try:
            text = await self._learned(tenant, message, name)
        except Exception:
            log.exception("tenant %s: learning document %s failed", tenant.slug, message.id)
            text = f"No pude aprender {name}: algo falló de nuestro lado. Inténtalo de nuevo en un rato."
        if reply_to is None:
            log.warning("tenant %s: the owner's number is unknown; learning result not sent", tenant.slug)
            return
        self._sender.notice_soon(tenant.slug, reply_to, text, ref=command_ref(tenant.slug, message.id))

    async def _learned(self, tenant: Tenant, message: Message, name: str) -> str:
        if self._knowledge is None:
            return "Este bot todavía no puede aprender documentos."
        if message.media is None:
            if message.media_omitted == "too_large":
                return f"No puedo aprender {name}: pesa más de {WHATSAPP_DOCUMENT_MB} MB, lo máximo que llega por WhatsApp."
            return f"No recibí el archivo {name}; envíalo otra vez con la descripción «aprende»."
        try:
            data = base64.b64decode(message.media.data_base64, validate=True)
            added = await self._knowledge.add(tenant.slug, name, data)
            log.info("tenant %s: the owner sent %s to learn", tenant.slug, added.file_id)
            done = await self._knowledge.wait_processed(tenant.slug, added.file_id)
        except binascii.Error:
            return f"No recibí bien el archivo {name}; envíalo otra vez con la descripción «aprende»."
        except KnowledgeError as error:
            self._learn_failed(tenant, name, error.code, error.detail)
            return learn_failure(name, error)
        if done.state == "failed":
            self._learn_failed(tenant, name, "rejected", done.error or "")
        return learned(done)

    def _learn_failed(self, tenant: Tenant, name: str, code: str, reason: str) -> None:
        log.warning("tenant %s: a document from the owner could not be learned (%s)", tenant.slug, code)
        if code in _ALERTED:
            self._alert(Alert(tenant.slug, AlertKind.KNOWLEDGE_FAILED, {"file": name, "code": code, "reason": reason}))

    async def _took_over(self, tenant: Tenant, chat: str, at: datetime) -> None:
        """The owner wrote in a customer chat: a handoff starts unless it was paused (counted)."""
        handoff = tenant.settings.handoff_enabled
        # Read first: the owner's messages of a tenant are handled one at a time, in its inbox.
        before = await self._chats.get(tenant.slug, chat) if handoff and self._handoffs else None
        after = await self._chats.touch_owner(tenant.slug, chat, at, handoff=handoff)
        if handoff and self._handoffs and after.pause_kind is PauseKind.HANDOFF and not (before and before.paused):
            await self._handoffs.record(tenant.slug, HandoffBy.OWNER, self._clock.now())

    async def _delete(self, slug: str, chat: str, message_id: str) -> None:
        try:
            await self._bridges.delete(slug, chat, message_id)
        except BridgeError as exc:
            log.info("tenant %s: could not delete the command message: %s", slug, exc)

    async def _apply(self, tenant: Tenant, command: Command, chat: str | None, now: datetime) -> str:
        if command.chat_level and chat is None:
            return ONLY_IN_CUSTOMER_CHAT
        slug = tenant.slug
        match command:
            case Command.PAUSE:
                await self._chats.pause(slug, chat, PauseKind.MANUAL, now)
                who = describe(await self._chats.get(slug, chat))
                return f"⏸️ Bot pausado en el chat con {who}. Escribe «reactivar» en ese chat para que vuelva a responder."
            case Command.RESUME:
                await self._chats.resume(slug, chat)
                who = describe(await self._chats.get(slug, chat) or Chat(slug, chat))
                return f"▶️ Bot reactivado en el chat con {who}."
            case Command.PAUSE_ALL:
                count = await self._chats.pause_all(slug, now)
                return (f"⏸️ Bot pausado en todos los chats existentes ({count}). Los chats nuevos sí se responden. "
                        "Escribe «activar todo» para reactivarlos.")
            case Command.RESUME_ALL:
                count = await self._chats.resume_all(slug)
                return f"▶️ Bot reactivado en todos los chats ({count})."
            case Command.SUSPEND | Command.ACTIVATE:
                return await self._suspend(tenant, command is Command.SUSPEND)
            case Command.STATUS:
                return await self._status(tenant, chat)
            case Command.CLOSE | Command.OPEN:
                return await owner_open_or_close(self._tenants, self._cache, tenant, command is Command.CLOSE, now)
            case Command.LEARN:  # the word alone, without a document
                return LEARN_HOW
        raise AssertionError(command)

    async def _suspend(self, tenant: Tenant, suspended: bool) -> str:
        updated = await self._tenants.set_suspended(tenant.slug, suspended)
        if updated is not None:
            self._cache.put(updated)
        if suspended:
            return "⛔ Bot suspendido: no responde a nadie, tampoco a chats nuevos. Escribe «activar bot» para activarlo."
        return "✅ Bot activo otra vez. Los chats pausados siguen pausados."

    async def _status(self, tenant: Tenant, chat: str | None) -> str:
        fresh = await self._cache.get(tenant.slug) or tenant
        lines = ["🤖 Bot suspendido (no responde a nadie)." if fresh.suspended else "🤖 Bot activo."]
        paused = await self._chats.paused(tenant.slug)
        if paused:
            lines.append(f"Chats pausados ({len(paused)}):")
            lines.extend(f"• {describe(c)} — {_PAUSE_LABELS[c.pause_kind]}" for c in paused)
        else:
            lines.append("No hay chats pausados.")
        if chat is not None:
            here = await self._chats.get(tenant.slug, chat)
            lines.append("Este chat: pausado." if here and here.paused else "Este chat: el bot responde.")
        hours = status_line(fresh, self._clock.now())
        if hours is not None:
            lines.append(hours)
        return "\n".join(lines)


def _command(message: Message, self_chat: bool) -> Command | None:
    """The command a message of the owner is: a text, or the caption of a document sent to
    the own chat (`aprende`); `aprende` elsewhere is an ordinary message."""
    if message.kind not in ("text", "document"):
        return None
    command = parse_command(message.text)
    if command is not None and command.self_chat_only:
        return command if self_chat else None
    return command if message.kind == "text" else None


def document_name(message: Message) -> str:
    """The document's own name (the bridge's `file_name`), else one from its type (documento.pdf)."""
    media = message.media
    given = media.file_name if media is not None else None
    name = PurePath((given or "").replace("\\", "/")).name.strip()[:200]
    if name:
        return name
    extension = mimetypes.guess_extension(media.mime) if media is not None and media.mime else None
    return f"documento{extension or ''}" if media is not None else "el documento"


def learned(file: KnowledgeFile) -> str:
    """The owner's one-line confirmation of a processed document."""
    if file.state == "ready":
        return f"Listo: aprendí {file.name}."
    if file.state == "failed":
        return f"No pude aprender {file.name}: OpenAI no pudo leerlo ({file.error or 'sin motivo'})."
    return f"Recibí {file.name}; OpenAI todavía lo está procesando. El bot lo usará apenas esté listo."


def learn_failure(name: str, error: KnowledgeError) -> str:
    """Why a document could not be learned, in one line for the owner."""
    match error.code:
        case "bad_type":
            return f"No puedo aprender {name}: ese tipo de archivo no sirve. Sirven {LEARNABLE}."
        case "too_large":
            return f"No puedo aprender {name}: pesa demasiado (máximo 20 MB)."
        case "too_many":
            return f"No puedo aprender {name}: ya hay {MAX_FILES} documentos. Pide al administrador que quite alguno."
        case "bad_key":
            return f"No pude aprender {name}: OpenAI rechazó la clave de la cuenta. Ya avisé al administrador."
        case "quota":
            return f"No pude aprender {name}: la cuenta de OpenAI no tiene saldo. Ya avisé al administrador."
        case "rejected":
            return f"No pude aprender {name}: OpenAI no lo aceptó ({error.detail or 'sin motivo'})."
        case "not_found":
            return f"No pude aprender {name}: la base de conocimiento ya no estaba en OpenAI. Envíalo otra vez."
    return f"No pude aprender {name}: OpenAI no responde ahora. Inténtalo de nuevo en unos minutos."
