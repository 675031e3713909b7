"""A fake Telegram Bot API server for the real python-telegram-bot and its polling loop.

Connect PTB with::

    Application.builder().token(fake.token)
        .base_url(f"{fake.url}/bot").base_file_url(f"{fake.url}/file/bot")

PTB appends the token to both base URLs and posts to ``{base_url}{token}/{method}`` as
form-urlencoded (multipart when uploading), JSON-valued parameters as JSON strings.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._loopback import LoopbackServer
from .telegram_model import (
    BOT_USER, Call, ChatMessage, TelegramError, as_int, command_entities, decode_params,
)
from .telegram_methods import MethodsMixin

DEFAULT_TOKEN = "123456:TEST-token-for-puente"


class FakeTelegram(MethodsMixin, LoopbackServer):
    """Fake Bot API: a chat model, an update queue for long polling, and failure injection."""

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.bot_user = dict(BOT_USER)
        self.all_calls: list[Call] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.blocked: set[int] = set()
        self._chats: dict[int, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._messages: dict[int, list[ChatMessage]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._failures: dict[str, list[tuple[int, int | None, str | None]]] = {}
        self._file_paths: dict[str, ChatMessage] = {}  # getFile's file_path -> the document's message
        self.downloads: list[str] = []  # file_paths fetched from the download path, in order
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self.app.router.add_route("*", "/file/bot{token}/{path:.*}", self._file)

    @property
    def api_url(self) -> str:
        """Pass to ``ApplicationBuilder.base_url``."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """Pass to ``ApplicationBuilder.base_file_url``."""
        return f"{self.url}/file/bot"

    # -- driving: what users do ----------------------------------------------

    def push_message(self, user_id: int, text: str, *, language_code: str | None = "es",
                     first_name: str = "Ana", username: str | None = None, chat_id: int | None = None) -> int:
        """A user writes `text` to the bot in their private chat, or in the group `chat_id`
        (a negative id); return its message_id."""
        user = self._user(user_id, first_name, language_code, username)
        chat = user_id if chat_id is None else chat_id
        msg = self._new_message(chat, "text", from_bot=False, text=text,
                                entities=command_entities(text), sender=user)
        self.push_update({"message": msg.to_api(self._chat(chat))})
        return msg.message_id

    def push_document(self, user_id: int, data: bytes, file_name: str, *, mime_type: str | None = None,
                      caption: str | None = None, file_size: int | None = None, language_code: str | None = "es",
                      first_name: str = "Ana") -> int:
        """A user sends a document (with an optional caption) in their private chat; return its
        message_id. `file_size` is what Telegram reports when it is not len(data) (a 25 MB file
        without 25 MB in the test)."""
        user = self._user(user_id, first_name, language_code, None)
        msg = self._new_message(user_id, "document", from_bot=False, caption=caption, document=data,
                                document_filename=file_name, document_mime=mime_type,
                                document_size=file_size, sender=user)
        if caption:  # Telegram marks a leading /command in a caption as caption_entities
            msg.entities = command_entities(caption)
        self.push_update({"message": msg.to_api(self._chat(user_id))})
        return msg.message_id

    def push_callback(self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None) -> str:
        """A user taps an inline button with `data` under `message_id` (in their private chat
        or in the group `chat_id`); return the query id."""
        user = self._users.get(user_id) or self._user(user_id, "Ana", "es", None)
        chat = user_id if chat_id is None else chat_id
        target = self.message(chat, message_id)
        query_id = str(next(self._callback_ids))
        self.push_update({"callback_query": {
            "id": query_id, "from": user, "chat_instance": f"ci{chat}", "data": data,
            "message": target.to_api(self._chat(chat)),
        }})
        return query_id

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue any raw Update (without update_id); return the assigned update_id."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self.changes.changed()
        return update["update_id"]

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocked the bot: sends to them fail with 403 Forbidden."""
        (self.blocked.add if blocked else self.blocked.discard)(user_id)

    def fail_next(self, method: str, n: int = 1, *, status: int = 429, retry_after: int | None = 1,
                  description: str | None = None) -> None:
        """The next `n` calls of `method` fail with `status` (429 carries `retry_after`)."""
        entry = (status, retry_after if status == 429 else None, description)
        self._failures.setdefault(method, []).extend([entry] * n)

    # -- queries: what users see ---------------------------------------------

    def messages_in(self, chat_id: int, *, include_user: bool = False,
                    include_deleted: bool = True) -> list[ChatMessage]:
        """The chat's messages in order; by default only the bot's, deleted ones flagged."""
        return [m for m in self._messages.get(chat_id, [])
                if (include_user or m.from_bot) and (include_deleted or not m.deleted)]

    def last_message(self, chat_id: int) -> ChatMessage | None:
        """The bot's most recent non-deleted message in the chat."""
        visible = self.messages_in(chat_id, include_deleted=False)
        return visible[-1] if visible else None

    def message(self, chat_id: int, message_id: int) -> ChatMessage:
        """A message by id (bot's or user's); KeyError if unknown."""
        for msg in self._messages.get(chat_id, []):
            if msg.message_id == message_id:
                return msg
        raise KeyError(f"no message {message_id} in chat {chat_id}")

    def calls(self, method: str | None = None) -> list[Call]:
        """Every request received (failed ones too, see ``Call.status``), optionally by method."""
        return [c for c in self.all_calls if method is None or c.method == method]

    async def wait_for_message(self, chat_id: int,
                               predicate: Callable[[ChatMessage], Any] | None = None,
                               timeout: float = 5.0) -> ChatMessage:
        """Wait for a bot message in the chat that matches (checked on every change, edits too)."""
        def find() -> ChatMessage | None:
            matches = [m for m in self.messages_in(chat_id, include_deleted=False)
                       if predicate is None or predicate(m)]
            return matches[-1] if matches else None
        return await self.changes.wait_until(find, timeout, lambda: (
            f"bot message in chat {chat_id}; have {[m.body for m in self.messages_in(chat_id)]}"))

    async def wait_for_call(self, method: str, predicate: Callable[[Call], Any] | None = None,
                            timeout: float = 5.0) -> Call:
        """Wait for a successful call of `method` matching `predicate`; return the latest."""
        def find() -> Call | None:
            ok = [c for c in self.calls(method) if c.status == 200 and (predicate is None or predicate(c))]
            return ok[-1] if ok else None
        return await self.changes.wait_until(find, timeout, f"a {method} call")

    async def wait_updates_consumed(self, timeout: float = 5.0) -> None:
        """Wait until the bot has confirmed (via getUpdates offset) every pushed update."""
        await self.changes.wait_until(lambda: not self._updates, timeout, "updates consumed")

    # -- HTTP ----------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _fail(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_params(request)
        call = Call(method, params, files)
        self.all_calls.append(call)
        try:
            self._inject_failure(method)
            result = await self._dispatch(method, params, files)
        except TelegramError as exc:
            call.status = exc.status
            self.changes.changed()
            return _fail(exc.status, exc.description, exc.retry_after)
        self.changes.changed()
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        """The download path `/file/bot<token>/<file_path>` of a file_path that getFile gave."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        msg = self._file_paths.get(path)
        if msg is None:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(path)
        self.changes.changed()
        return web.Response(body=msg.document or b"", content_type="application/octet-stream")

    def _file_path(self, msg: ChatMessage) -> str:
        """The file_path getFile gives a document: `documents/file_<n>.<ext>`, like Telegram's."""
        for path, known in self._file_paths.items():
            if known is msg:
                return path
        suffix = (msg.document_filename or "").rpartition(".")[2] if "." in (msg.document_filename or "") else ""
        path = f"documents/file_{len(self._file_paths)}" + (f".{suffix}" if suffix else "")
        self._file_paths[path] = msg
        return path

    def _inject_failure(self, method: str) -> None:
        queue = self._failures.get(method)
        if not queue:
            return
        status, retry_after, description = queue.pop(0)
        if description is None:
            description = (f"Too Many Requests: retry after {retry_after}" if status == 429
                           else "Internal Server Error" if status >= 500
                           else "Bad Request: injected failure")
        raise TelegramError(status, description, retry_after)

    async def _dispatch(self, method: str, params: dict[str, Any], files: dict) -> Any:
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return True  # generic fallback; the call is recorded
        return await handler(params, files)

    # -- model helpers used by the method handlers ---------------------------

    def _user(self, user_id: int, first_name: str, language_code: str | None,
              username: str | None) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        self._users[user_id] = user
        self._chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name,
                                **({"username": username} if username else {})}
        return user

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id not in self._chats:
            kind = {"type": "private", "first_name": "Usuario"} if chat_id > 0 else \
                {"type": "supergroup", "title": "Grupo"}
            self._chats[chat_id] = {"id": chat_id, **kind}
        return self._chats[chat_id]

    def _new_message(self, chat_id: int, kind: str, *, from_bot: bool, **fields: Any) -> ChatMessage:
        self._chat(chat_id)
        messages = self._messages.setdefault(chat_id, [])
        next_id = messages[-1].message_id + 1 if messages else 1
        msg = ChatMessage(chat_id=chat_id, message_id=next_id, kind=kind, from_bot=from_bot,
                          date=int(time.time()), **fields)
        messages.append(msg)
        self.changes.changed()
        return msg

    def _target(self, params: dict[str, Any], action: str) -> ChatMessage:
        chat_id, message_id = as_int(params.get("chat_id")), as_int(params.get("message_id"))
        try:
            msg = self.message(chat_id, message_id)
        except KeyError:
            raise TelegramError(400, f"Bad Request: message to {action} not found") from None
        if msg.deleted:
            raise TelegramError(400, f"Bad Request: message to {action} not found")
        return msg

    def _api(self, msg: ChatMessage) -> dict[str, Any]:
        return msg.to_api(self._chat(msg.chat_id))


def _fail(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str | None, bytes]]]:
    """Parameters from the query string, a JSON body, a urlencoded form or multipart."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, tuple[str | None, bytes]] = {}
    if request.content_type == "application/json":
        raw.update(await request.json())
    elif request.content_type == "multipart/form-data":
        async for part in (await request.multipart()):
            if part.filename is not None:
                files[part.name] = (part.filename, bytes(await part.read()))
            else:
                raw[part.name] = await part.text()
    elif request.can_read_body:
        raw.update(await request.post())
    return decode_params(raw), files
