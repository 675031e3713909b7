"""The fake Telegram server's model of chats: what a user would see in each chat."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

BOT_USER = {"id": 999, "is_bot": True, "first_name": "Puente", "username": "puente_test_bot"}

# Parameters that PTB sends as JSON strings inside form fields.
JSON_FIELDS = frozenset({
    "reply_markup", "media", "commands", "allowed_updates", "entities", "caption_entities",
    "reply_parameters", "link_preview_options", "scope",
})


def decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn form values into Python values: JSON fields parsed, numeric strings kept as str."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in JSON_FIELDS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        params[key] = value
    return params


def as_int(value: Any) -> int | None:
    """Telegram integers arrive as strings in form bodies."""
    return None if value is None else int(value)


class TelegramError(Exception):
    """Raised by a method handler to answer ``ok: false`` like Telegram."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


@dataclass
class Edit:
    """A message's state before one edit."""

    method: str
    text: str | None
    caption: str | None
    photo: bytes | None
    reply_markup: dict[str, Any] | None


@dataclass
class ChatMessage:
    """One message in a chat, sent by the bot (``from_bot``) or pushed as a user's."""

    chat_id: int
    message_id: int
    kind: str  # "text", "photo" or "document"
    from_bot: bool
    text: str | None = None
    caption: str | None = None
    photo: bytes | None = None  # uploaded bytes; None when sent by file_id/URL
    photo_ref: str | None = None  # file_id or URL when not uploaded
    photo_filename: str | None = None
    document: bytes | None = None  # an uploaded document's bytes
    document_filename: str | None = None
    document_mime: str | None = None
    document_size: int | None = None  # the size Telegram reports; len(document) unless a test says otherwise
    reply_markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] | None = None
    sender: dict[str, Any] = field(default_factory=lambda: dict(BOT_USER))
    date: int = field(default_factory=lambda: int(time.time()))
    edits: list[Edit] = field(default_factory=list)
    deleted: bool = False

    @property
    def body(self) -> str | None:
        """Text of a text message, caption of a photo or document."""
        return self.text if self.kind == "text" else self.caption

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Inline keyboard rows (empty when there is none)."""
        return (self.reply_markup or {}).get("inline_keyboard", [])

    @property
    def button_texts(self) -> list[str]:
        """Every inline button's label, row by row."""
        return [button["text"] for row in self.buttons for button in row]

    def callback_data(self, button_text: str) -> str:
        """The callback_data of the inline button labelled `button_text`."""
        for row in self.buttons:
            for button in row:
                if button["text"] == button_text:
                    return button["callback_data"]
        raise KeyError(f"no button {button_text!r} in {self.button_texts}")

    @property
    def document_file_id(self) -> str:
        """The file_id Telegram gives this message's document (getFile takes it)."""
        return f"BQACdc{self.chat_id}_{self.message_id}"

    @property
    def document_file_size(self) -> int:
        """The document's size as Telegram reports it."""
        return len(self.document or b"") if self.document_size is None else self.document_size

    def remember(self, method: str) -> None:
        """Push the current state onto the edit history before `method` changes it."""
        self.edits.append(Edit(method, self.text, self.caption, self.photo, self.reply_markup))

    def to_api(self, chat: dict[str, Any]) -> dict[str, Any]:
        """The Bot API Message object for this message, in `chat` (a Bot API Chat)."""
        msg: dict[str, Any] = {"message_id": self.message_id, "date": self.date,
                               "chat": chat, "from": self.sender}
        if self.kind == "text":
            msg["text"] = self.text or ""
            if self.entities:
                msg["entities"] = self.entities
        elif self.kind == "document":
            unique = f"dc{self.chat_id}_{self.message_id}"
            msg["document"] = {"file_id": self.document_file_id, "file_unique_id": unique,
                               "file_name": self.document_filename, "file_size": self.document_file_size}
            if self.document_mime:
                msg["document"]["mime_type"] = self.document_mime
            if self.caption:
                msg["caption"] = self.caption
            if self.entities:
                msg["caption_entities"] = self.entities
        else:
            unique = f"ph{self.chat_id}_{self.message_id}_{len(self.edits)}"
            msg["photo"] = [{"file_id": self.photo_ref or "AgAC" + unique, "file_unique_id": unique,
                             "width": 512, "height": 512, "file_size": len(self.photo or b"")}]
            if self.caption:
                msg["caption"] = self.caption
        if self.edits:
            msg["edit_date"] = int(time.time())
        if self.reply_markup:
            msg["reply_markup"] = self.reply_markup
        return msg


@dataclass
class Call:
    """One Bot API request as received: method, decoded params, uploaded files, HTTP status."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str | None, bytes]]  # field name -> (filename, bytes)
    status: int = 200


def command_entities(text: str) -> list[dict[str, Any]] | None:
    """The bot_command entity Telegram adds to a message starting with /command."""
    if not text.startswith("/"):
        return None
    command = text.split(maxsplit=1)[0] if text.strip() else text
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
