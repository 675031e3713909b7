"""/kb <slug> [attach|detach vs_…]: a tenant's knowledge files (OpenAI file search), each
removable by a button, and the vector stores attached from its own OpenAI project. Adding a
file (a document captioned `/kb <slug>`, or ➕ then the document) is bot.knowledge_upload."""

from __future__ import annotations

import math
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot import callbacks as cb
from bot.i18n import t, usage
from bot.replies import esc, lang_of, reply, tenant_from_args, tenant_from_callback
from bot.services import services
from tenants.knowledge import ACCEPTED_EXTENSIONS, MAX_FILES, KnowledgeError
from tenants.model import Tenant

STORE_ACTIONS = ("attach", "detach")
NAME_CHARS = 40  # of a file's name in the list and on its button
FILE_KEY_CHARS = 24  # the end of a file id a remove button carries (callback data holds 64 bytes)
PER_PAGE = 20  # files a message shows: 20 lines and buttons stay well within Telegram's limits


def accepted_types() -> str:
    """`.c .cpp … .txt`, for the operator."""
    return " ".join(sorted(ACCEPTED_EXTENSIONS))


def short_name(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def file_size(lang: str, size: int) -> str:
    """`800 B`, `120 KB`, `3,4 MB` (`3.4 MB` in English)."""
    if size < 1024:
        text = f"{size} B"
    elif size < 1024 * 1024:
        text = f"{size / 1024:.0f} KB"
    else:
        text = f"{size / 1024 / 1024:.1f} MB"
    return text.replace(".", ",") if lang == "es" else text


def error_line(lang: str, tenant: Tenant, error: KnowledgeError, file: str = "", size: int = 0) -> str:
    """One sentence for a KnowledgeError; never a key (the service never puts one in `detail`).
    With a `file`, not_found means the tenant's own store was deleted at OpenAI."""
    key = "kb.error.store_gone" if file and error.code == "not_found" else f"kb.error.{error.code}"
    return t(lang, key, name=esc(tenant.name), slug=esc(tenant.slug), file=esc(file),
             detail=esc(error.detail), types=accepted_types(), max=MAX_FILES, size=file_size(lang, size))


def knowledge_view(lang: str, tenant: Tenant, view: Any, page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    """The /kb message: a page of files with their state, the attached stores, how to add
    one; a remove button per file shown, ◀️ ▶️ between pages, and ➕."""
    pages = max(1, math.ceil(len(view.files) / PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = list(enumerate(view.files, start=1))[page * PER_PAGE:(page + 1) * PER_PAGE]
    lines = [t(lang, "kb.title", name=esc(tenant.name))]
    if view.vector_store_id:
        lines.append(t(lang, "kb.store", id=_store(lang, view.vector_store_id, view.gone)))
    if view.files:
        where = t(lang, "kb.page", page=page + 1, pages=pages) if pages > 1 else ""
        lines.append(t(lang, "kb.files", count=len(view.files), max=MAX_FILES, page=where))
        lines += [_file_line(lang, number, file) for number, file in shown]
    else:
        lines.append(t(lang, "kb.no_files"))
    if view.attached:
        lines.append(t(lang, "kb.attached", ids=", ".join(_store(lang, vs, view.gone) for vs in view.attached)))
    lines += ["", t(lang, "kb.how", slug=esc(tenant.slug), types=accepted_types())]
    return "\n".join(lines), _keyboard(lang, tenant, [file for _, file in shown], page, pages)


def _keyboard(lang: str, tenant: Tenant, files: list[Any], page: int, pages: int) -> InlineKeyboardMarkup:
    rows = [[cb.button(t(lang, "kb.btn.remove", name=short_name(file.name)), cb.KB_REMOVE, tenant.slug,
                       file.file_id[-FILE_KEY_CHARS:])] for file in files]
    nav = [cb.button(t(lang, key), cb.KB_VIEW, tenant.slug, str(to))
           for key, to, shows in (("btn.prev", page - 1, page > 0), ("btn.next", page + 1, page + 1 < pages)) if shows]
    rows += [nav] if nav else []
    rows.append([cb.button(t(lang, "kb.btn.add"), cb.KB_ADD, tenant.slug)])
    return InlineKeyboardMarkup(rows)


def _store(lang: str, vector_store_id: str, gone: frozenset[str]) -> str:
    return f"<code>{esc(vector_store_id)}</code>" + (f" ({t(lang, 'kb.gone')})" if vector_store_id in gone else "")


def _file_line(lang: str, number: int, file: Any) -> str:
    state = t(lang, f"kb.state.{file.state}", reason=esc(file.error or ""))
    return f"{number}. {esc(short_name(file.name))} · {file_size(lang, file.size)} · {state}"


async def kb_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kb <slug> [attach|detach vs_…]"""
    svc, lang = services(context), lang_of(update)
    if svc.knowledge is None:
        await reply(update, t(lang, "kb.off"))
        return
    args = context.args or []
    if len(args) not in (0, 1, 3) or (len(args) == 3 and args[1].lower() not in STORE_ACTIONS):
        await reply(update, usage(lang, "kb"))
        return
    tenant = await tenant_from_args(update, context, "kb", more_ok=True)
    if tenant is None:
        return
    if len(args) == 3:
        await _store_action(update, context, tenant, args[1].lower(), args[2])
    else:
        await reply(update, *knowledge_view(lang, tenant, await svc.knowledge.view(tenant.slug)))


async def _store_action(update: Update, context: ContextTypes.DEFAULT_TYPE, tenant: Tenant,
                        action: str, vector_store_id: str) -> None:
    knowledge, lang = services(context).knowledge, lang_of(update)
    try:
        await (knowledge.attach if action == "attach" else knowledge.detach)(tenant.slug, vector_store_id)
    except KnowledgeError as error:
        await reply(update, error_line(lang, tenant, error))
        return
    await reply(update, t(lang, f"kb.{action}ed_ok", id=f"<code>{esc(vector_store_id)}</code>", name=esc(tenant.name)))


async def remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """🗑 under a file: ask, in the same message, whether to remove it."""
    query = update.callback_query
    await query.answer()
    found = await _tapped_file(update, context)
    if found is None:
        return
    tenant, file = found
    lang = lang_of(update)
    key = file.file_id[-FILE_KEY_CHARS:]
    markup = InlineKeyboardMarkup([[cb.button(t(lang, "btn.confirm"), cb.KB_REMOVE_OK, tenant.slug, key),
                                    cb.button(t(lang, "btn.cancel"), cb.KB_VIEW, tenant.slug)]])
    await query.edit_message_text(t(lang, "kb.confirm_remove", file=esc(file.name), name=esc(tenant.name)),
                                  reply_markup=markup)


async def remove_confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """✅ Confirm: remove the file (from the store and at OpenAI), then show the knowledge again."""
    query = update.callback_query
    await query.answer()
    found = await _tapped_file(update, context)
    if found is None:
        return
    tenant, file = found
    svc, lang = services(context), lang_of(update)
    try:
        await svc.knowledge.remove(tenant.slug, file.file_id)
    except KnowledgeError as error:
        head = error_line(lang, tenant, error, file.name)
    else:
        head = t(lang, "kb.removed", file=esc(file.name))
    text, markup = knowledge_view(lang, tenant, await svc.knowledge.view(tenant.slug))
    await query.edit_message_text(head + "\n\n" + text, reply_markup=markup)


async def view_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀️ ▶️, or ✖️ under a removal question: the knowledge again, at that page."""
    query = update.callback_query
    await query.answer()
    data = cb.parse(query.data)
    tenant = await tenant_from_callback(update, context, data.slug)
    if tenant is not None and services(context).knowledge is not None:
        view = await services(context).knowledge.view(tenant.slug)
        page = int(data.arg) if data.arg.isdigit() else 0
        text, markup = knowledge_view(lang_of(update), tenant, view, page)
        await query.edit_message_text(text, reply_markup=markup)


async def _tapped_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Tenant, Any] | None:
    """The tenant and file a button names, or None after saying the button no longer applies."""
    data = cb.parse(update.callback_query.data)
    tenant = await tenant_from_callback(update, context, data.slug)
    knowledge = services(context).knowledge
    if tenant is None or knowledge is None:
        return None
    view = await knowledge.view(tenant.slug)
    file = next((f for f in view.files if data.arg and f.file_id.endswith(data.arg)), None)
    if file is None:
        text, markup = knowledge_view(lang_of(update), tenant, view)
        await update.callback_query.edit_message_text(text, reply_markup=markup)
        await reply(update, t(lang_of(update), "expired_button"))
        return None
    return tenant, file


def handlers() -> list:
    """Group-0 handlers of this module."""
    return [CommandHandler("kb", kb_command),
            CallbackQueryHandler(remove_button, pattern=cb.pattern(cb.KB_REMOVE)),
            CallbackQueryHandler(remove_confirmed, pattern=cb.pattern(cb.KB_REMOVE_OK)),
            CallbackQueryHandler(view_button, pattern=cb.pattern(cb.KB_VIEW))]
