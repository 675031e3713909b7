"""Bot API method handlers of FakeTelegram, one ``_m_<method>`` each.

Each returns the ``result`` of a successful call or raises TelegramError, with the
descriptions the real Bot API uses for the same mistakes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .telegram_model import TelegramError, as_int

if TYPE_CHECKING:
    from .telegram_api import FakeTelegram

Files = dict[str, tuple[str | None, bytes]]
GETFILE_LIMIT = 20 * 1024 * 1024  # bytes a bot may download (Bot API, getFile)
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message")


def _error(status: int, description: str) -> TelegramError:
    return TelegramError(status, description)


def _photo(value: Any, files: Files) -> tuple[bytes | None, str | None, str | None]:
    """(bytes, file_id-or-URL, filename) of a photo parameter: upload, attach:// or reference."""
    if isinstance(value, str) and value.startswith("attach://"):
        value = files.get(value.removeprefix("attach://"))
        if value is None:
            raise _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
    if isinstance(value, tuple):
        filename, data = value
        return data, None, filename
    if not value:
        raise _error(400, "Bad Request: there is no photo in the request")
    return None, str(value), None


class MethodsMixin:
    """The Bot API methods the fake implements beyond the generic ``ok: true`` fallback."""

    async def _m_getMe(self: FakeTelegram, params: dict, files: Files) -> Any:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    async def _m_getUpdates(self: FakeTelegram, params: dict, files: Files) -> Any:
        offset = as_int(params.get("offset")) or 0
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self.changes.changed()
        limit = as_int(params.get("limit")) or 100
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        while not self._updates and not self._closing.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self.changes.next_change(remaining):
                break
        return self._updates[:limit]

    async def _m_getWebhookInfo(self: FakeTelegram, params: dict, files: Files) -> Any:
        return {"url": "", "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _m_setMyCommands(self: FakeTelegram, params: dict, files: Files) -> Any:
        self.commands[_commands_key(params)] = list(params.get("commands") or [])
        return True

    async def _m_deleteMyCommands(self: FakeTelegram, params: dict, files: Files) -> Any:
        self.commands.pop(_commands_key(params), None)
        return True

    async def _m_getMyCommands(self: FakeTelegram, params: dict, files: Files) -> Any:
        return self.commands.get(_commands_key(params), [])

    async def _m_sendMessage(self: FakeTelegram, params: dict, files: Files) -> Any:
        chat_id = self._writable_chat(params)
        text = params.get("text") or ""
        if not text.strip():
            raise _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise _error(400, "Bad Request: message is too long")
        msg = self._new_message(chat_id, "text", from_bot=True, text=text,
                                parse_mode=params.get("parse_mode"),
                                reply_markup=params.get("reply_markup"),
                                entities=params.get("entities"))
        return self._api(msg)

    async def _m_sendPhoto(self: FakeTelegram, params: dict, files: Files) -> Any:
        chat_id = self._writable_chat(params)
        data, ref, filename = _photo(files.get("photo") or params.get("photo"), files)
        caption = _caption(params)
        msg = self._new_message(chat_id, "photo", from_bot=True, caption=caption, photo=data,
                                photo_ref=ref, photo_filename=filename,
                                parse_mode=params.get("parse_mode"),
                                reply_markup=params.get("reply_markup"))
        return self._api(msg)

    async def _m_sendDocument(self: FakeTelegram, params: dict, files: Files) -> Any:
        chat_id = self._writable_chat(params)
        value = files.get("document") or params.get("document")
        if isinstance(value, str) and value.startswith("attach://"):
            value = files.get(value.removeprefix("attach://"))
        if not isinstance(value, tuple):  # the fake keeps uploads only
            raise _error(400, "Bad Request: there is no document in the request")
        filename, data = value
        msg = self._new_message(chat_id, "document", from_bot=True, caption=_caption(params), document=data,
                                document_filename=filename, parse_mode=params.get("parse_mode"),
                                reply_markup=params.get("reply_markup"))
        return self._api(msg)

    async def _m_getFile(self: FakeTelegram, params: dict, files: Files) -> Any:
        # Bot API getFile: a File with file_path, downloadable at /file/bot<token>/<file_path>;
        # "bots can download files of up to 20MB in size", bigger ones are refused.
        file_id = params.get("file_id")
        msg = next((m for chat in self._messages.values() for m in chat
                    if m.kind == "document" and m.document_file_id == file_id), None)
        if msg is None:
            raise _error(400, "Bad Request: invalid file_id")
        if msg.document_file_size > GETFILE_LIMIT:
            raise _error(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": file_id.removeprefix("BQAC"),
                "file_size": msg.document_file_size, "file_path": self._file_path(msg)}

    async def _m_editMessageText(self: FakeTelegram, params: dict, files: Files) -> Any:
        msg = self._target(params, "edit")
        if msg.kind != "text":
            raise _error(400, "Bad Request: there is no text in the message to edit")
        text = params.get("text") or ""
        if not text.strip():
            raise _error(400, "Bad Request: message text is empty")
        markup = params.get("reply_markup")
        if text == msg.text and markup == msg.reply_markup:
            raise _error(400, NOT_MODIFIED)
        msg.remember("editMessageText")
        msg.text, msg.reply_markup, msg.parse_mode = text, markup, params.get("parse_mode")
        return self._api(msg)

    async def _m_editMessageCaption(self: FakeTelegram, params: dict, files: Files) -> Any:
        msg = self._target(params, "edit")
        if msg.kind == "text":
            raise _error(400, "Bad Request: there is no caption in the message to edit")
        caption, markup = _caption(params), params.get("reply_markup")
        if caption == msg.caption and markup == msg.reply_markup:
            raise _error(400, NOT_MODIFIED)
        msg.remember("editMessageCaption")
        msg.caption, msg.reply_markup = caption, markup
        return self._api(msg)

    async def _m_editMessageMedia(self: FakeTelegram, params: dict, files: Files) -> Any:
        msg = self._target(params, "edit")
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") != "photo":
            raise _error(400, "Bad Request: unsupported media type in the fake (photo only)")
        data, ref, filename = _photo(media.get("media"), files)
        msg.remember("editMessageMedia")
        msg.kind, msg.text = "photo", None
        msg.photo, msg.photo_ref, msg.photo_filename = data, ref, filename
        msg.caption = media.get("caption")
        msg.reply_markup = params.get("reply_markup")
        return self._api(msg)

    async def _m_editMessageReplyMarkup(self: FakeTelegram, params: dict, files: Files) -> Any:
        msg = self._target(params, "edit")
        markup = params.get("reply_markup")
        if markup == msg.reply_markup:
            raise _error(400, NOT_MODIFIED)
        msg.remember("editMessageReplyMarkup")
        msg.reply_markup = markup
        return self._api(msg)

    async def _m_deleteMessage(self: FakeTelegram, params: dict, files: Files) -> Any:
        msg = self._target(params, "delete")
        msg.deleted = True
        return True

    async def _m_answerCallbackQuery(self: FakeTelegram, params: dict, files: Files) -> Any:
        if not params.get("callback_query_id"):
            raise _error(400, "Bad Request: query is too old and response timeout expired "
                              "or query ID is invalid")
        return True

    async def _m_sendChatAction(self: FakeTelegram, params: dict, files: Files) -> Any:
        self._writable_chat(params)
        return True

    def _writable_chat(self: FakeTelegram, params: dict) -> int:
        chat_id = as_int(params.get("chat_id"))
        if chat_id is None:
            raise _error(400, "Bad Request: chat_id is empty")
        if chat_id in self.blocked:
            raise _error(403, "Forbidden: bot was blocked by the user")
        return chat_id


def _caption(params: dict) -> str | None:
    caption = params.get("caption")
    if caption is not None and len(caption) > 1024:
        raise _error(400, "Bad Request: message caption is too long")
    return caption


def _commands_key(params: dict) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    scope_key = scope.get("type", "default") + (f":{scope['chat_id']}" if "chat_id" in scope else "")
    return scope_key, params.get("language_code") or ""

