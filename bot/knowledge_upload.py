"""Adding a knowledge file from Telegram: a document captioned `/kb <slug>`, or ➕ in the /kb
view and then the document. The bot checks its type and size (before downloading: Telegram
lets a bot download 20 MB at most), downloads it (getFile), hands it to Knowledge.add, and
edits one progress message until OpenAI has processed it, ready or failed with its reason."""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from typing import Any

from telegram import Document, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import callbacks as cb
from bot import flows
from bot.i18n import t, usage
from bot.knowledge import accepted_types, error_line
from bot.replies import esc, lang_of, reply, tenant_from_callback
from bot.services import KnowledgeSource, services
from core.tasks import cancel, spawn
from tenants.knowledge import KnowledgeError
from tenants.model import Tenant

log = logging.getLogger("bot.knowledge")

FLOW = "kb_add"
KB_CAPTION = re.compile(r"^/kb(?:@\w+)?(?:\s|$)", re.IGNORECASE)
CAPTIONED = filters.Document.ALL & filters.CaptionRegex(KB_CAPTION)
UNCAPTIONED = filters.Document.ALL & ~filters.CaptionRegex(KB_CAPTION)


class AddStep(enum.Enum):
    """Waiting for the document after ➕."""

    DOCUMENT = enum.auto()


class KnowledgeUploads:
    """Each document taken in is downloaded, uploaded and followed until OpenAI has processed
    it in the background, its one progress message edited at each step, so that the bot
    answers other updates meanwhile. Stopped with the bot (a file still processing then
    stays so in /kb)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def start(self, knowledge: KnowledgeSource, progress: Message, document: Document, lang: str,
              tenant: Tenant) -> None:
        task = spawn(self._upload(knowledge, progress, document, lang, tenant), name=f"kb-upload-{tenant.slug}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        await cancel(*self._tasks)

    async def _upload(self, knowledge: KnowledgeSource, progress: Message, document: Document, lang: str,
                      tenant: Tenant) -> None:
        try:
            text = await _steps(knowledge, progress, document, lang, tenant)
        except Exception:  # the boundary of this background work: logged, and the admin told
            log.exception("tenant %s: adding a knowledge file failed", tenant.slug)
            text = t(lang, "error")
        await _edit(progress, text, tenant)


async def _steps(knowledge: KnowledgeSource, progress: Message, document: Document, lang: str,
                 tenant: Tenant) -> str:
    """Download, upload, wait for OpenAI; the text the progress message ends with."""
    name = document.file_name or "document"
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
    except TelegramError as exc:
        log.warning("tenant %s: downloading a knowledge file from Telegram failed: %s", tenant.slug, exc)
        return t(lang, "kb.download_failed", file=esc(name))
    try:
        file = await knowledge.add(tenant.slug, name, data)
        await _edit(progress, t(lang, "kb.processing", file=esc(name), name=esc(tenant.name)), tenant)
        return _outcome(lang, tenant, await knowledge.wait_processed(tenant.slug, file.file_id))
    except KnowledgeError as error:
        return error_line(lang, tenant, error, name, len(data))


async def _edit(progress: Message, text: str, tenant: Tenant) -> None:
    try:
        await progress.edit_text(text)
    except TelegramError as exc:
        log.warning("tenant %s: could not edit a knowledge file's progress message: %s", tenant.slug, exc)


def _outcome(lang: str, tenant: Tenant, file: Any) -> str:
    name = esc(file.name)
    if file.state == "ready":
        return t(lang, "kb.ready", file=name, name=esc(tenant.name))
    if file.state == "failed":
        return t(lang, "kb.failed", file=name, reason=esc(file.error or ""))
    return t(lang, "kb.still_processing", file=name, slug=esc(tenant.slug))


async def captioned_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document captioned `/kb <slug>`."""
    svc, lang = services(context), lang_of(update)
    if svc.knowledge is None:
        await reply(update, t(lang, "kb.off"))
        return
    words = (update.effective_message.caption or "").split()
    if len(words) != 2:
        await reply(update, (t(lang, "missing_slug") + "\n" if len(words) < 2 else "") + usage(lang, "kb"))
        return
    tenant = await svc.tenants.find(words[1].strip().lower())
    if tenant is None:
        await reply(update, t(lang, "not_found", slug=esc(words[1])) + "\n" + usage(lang, "kb"))
        return
    await add_document(update, context, tenant)


async def add_document(update: Update, context: ContextTypes.DEFAULT_TYPE, tenant: Tenant) -> None:
    """Check the type and size, post the progress message; KnowledgeUploads does the rest."""
    svc, lang = services(context), lang_of(update)
    document: Document = update.effective_message.document
    name = document.file_name or "document"
    try:
        svc.knowledge.check_upload(name, document.file_size or 0)  # before downloading: no 25 MB fetched
    except KnowledgeError as error:
        await reply(update, error_line(lang, tenant, error, name, document.file_size or 0))
        return
    progress = await reply(update, t(lang, "kb.receiving", file=esc(name), name=esc(tenant.name)))
    context.bot_data["kb_uploads"].start(svc.knowledge, progress, document, lang, tenant)


async def stray_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document outside the ➕ step and without `/kb <slug>`: say how to add it."""
    if not flows.active(context):
        await reply(update, t(lang_of(update), "kb.stray_document"))


async def add_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> AddStep | int:
    """➕ in the /kb view: wait for the document."""
    query = update.callback_query
    await query.answer()
    tenant = await tenant_from_callback(update, context, cb.parse(query.data).slug)
    if tenant is None or services(context).knowledge is None:
        return flows.leave(context, FLOW)
    flows.enter(context, FLOW)
    context.user_data[FLOW] = tenant.slug
    await reply(update, t(lang_of(update), "kb.ask_document", name=esc(tenant.name), types=accepted_types()))
    return AddStep.DOCUMENT


async def got_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The document after ➕."""
    slug = context.user_data.get(FLOW, "")
    flows.leave(context, FLOW)
    tenant = await services(context).tenants.find(slug)
    if tenant is None:
        await reply(update, t(lang_of(update), "not_found", slug=esc(slug)))
    else:
        await add_document(update, context, tenant)
    return flows.END


async def not_a_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> AddStep:
    """Text after ➕: the step still waits for a document."""
    tenant = await services(context).tenants.find(context.user_data.get(FLOW, ""))
    name = esc(tenant.name) if tenant else ""
    await reply(update, t(lang_of(update), "kb.ask_document", name=name, types=accepted_types()))
    return AddStep.DOCUMENT


def handlers() -> list:
    """Group-0 handlers of this module (a captioned document; any other document outside ➕)."""
    return [MessageHandler(CAPTIONED, captioned_document), MessageHandler(UNCAPTIONED, stray_document)]


def flow():
    """➕ then the document (its own handler group)."""
    return flows.conversation(
        FLOW,
        entry_points=[CallbackQueryHandler(add_button, pattern=cb.pattern(cb.KB_ADD))],
        states={AddStep.DOCUMENT: [MessageHandler(UNCAPTIONED, got_document), flows.text_step(not_a_document)]},
    )
