"""QR codes as photos: one message per admin and tenant, its image replaced on each new QR.

Admins who ask for a QR (/qr, the card's button, a new tenant) become watchers of that
tenant. Every new QR the bridge issues replaces the image in the same message; when the
phone links the message says so; when the bridge stops issuing QRs it offers a new one.
Watchers are kept in the store (bot/qr_watchers.py), so a restart changes none of that.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, InlineKeyboardMarkup, InputMediaPhoto
from telegram.constants import ParseMode

from bot import callbacks as cb
from bot.delivery import with_retry
from bot.i18n import t
from bot.qr_image import qr_png
from bot.qr_watchers import QrWatchers, Watcher
from bot.replies import esc
from core.clock import Clock
from core.events import WhatsAppState, WhatsAppStateChanged

log = logging.getLogger("bot.qr")


class QrDelivery:
    """Sends and replaces QR photos for the admins watching a tenant."""

    def __init__(self, tenants, states, clock: Clock, saved: QrWatchers | None = None) -> None:
        self._tenants = tenants
        self._states = states
        self._clock = clock
        self._saved = saved
        self._bot: Bot | None = None
        self._watchers: dict[str, dict[int, Watcher]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def bind(self, bot: Bot) -> None:
        """The Telegram bot to send with (known once PTB is built)."""
        self._bot = bot

    async def load(self) -> None:
        """Take up the watchers saved before a restart."""
        if self._saved is not None:
            for slug, watchers in (await self._saved.all()).items():
                self._watchers.setdefault(slug, {}).update(watchers)

    def watching(self, slug: str) -> list[int]:
        """The chats that will see this tenant's next QR."""
        return list(self._watchers.get(slug, {}))

    async def forget(self, slug: str, chat_id: int | None = None) -> None:
        """Stop updating one chat's QR message (or every chat's) for this tenant."""
        if chat_id is None:
            self._watchers.pop(slug, None)
        else:
            self._watchers.get(slug, {}).pop(chat_id, None)
        if self._saved is not None:
            await self._saved.drop(slug, chat_id)

    async def watch(self, slug: str, chat_id: int, lang: str) -> bool:
        """Make `chat_id` a watcher; show the current QR at once if there is a fresh one.

        Returns whether a photo is already showing in that chat.
        """
        watchers = self._watchers.setdefault(slug, {})
        watcher = watchers.get(chat_id)
        if watcher is None:
            watcher = watchers[chat_id] = Watcher(chat_id, lang)
        watcher.lang = lang
        await self._save(slug, watcher)
        state = self._states.get(slug)
        if state.qr and not self._expired(state):
            async with self._lock(slug):
                await self._show_qr(slug, watcher, state)
        return watcher.message_id is not None

    async def on_state(self, event: WhatsAppStateChanged) -> None:
        """Bus handler: a new QR, a link, or the end of QRs for a tenant."""
        slug, state = event.tenant, event.state
        if not self._watchers.get(slug):
            return
        async with self._lock(slug):
            watchers = list(self._watchers.get(slug, {}).values())
            if state.state == "connected":
                await self.forget(slug)
                for watcher in watchers:
                    await self._show_connected(slug, watcher, state)
            elif state.state == "stopped" and state.reason == "qr_timeout":
                for watcher in watchers:
                    await self._show_timeout(slug, watcher)
            elif state.qr and state.qr != event.previous.qr:
                for watcher in watchers:
                    await self._show_qr(slug, watcher, state)

    # --- rendering -------------------------------------------------------------------

    async def _show_qr(self, slug: str, watcher: Watcher, state: WhatsAppState) -> None:
        name = await self._name(slug)
        # Seconds left rather than a clock time: right in every time zone, and the next QR
        # replaces the photo (and this count) before it runs out.
        left = (state.qr_expires_at - self._clock.now()).total_seconds() if state.qr_expires_at else None
        expires = f"{max(0, round(left))} s" if left is not None else "?"
        caption = t(watcher.lang, "qr_caption", name=esc(name), expires=expires)
        png = qr_png(state.qr or "")
        bot = self._require_bot()
        if watcher.message_id is not None:
            edited = await with_retry(lambda: bot.edit_message_media(
                InputMediaPhoto(png, caption=caption, parse_mode=ParseMode.HTML),
                chat_id=watcher.chat_id, message_id=watcher.message_id), f"QR edit for {slug}")
            if edited is not None:
                return
        sent = await with_retry(lambda: bot.send_photo(watcher.chat_id, png, caption=caption),
                                f"QR photo for {slug}")
        watcher.message_id = sent.message_id if sent else None
        await self._save(slug, watcher)

    async def _show_connected(self, slug: str, watcher: Watcher, state: WhatsAppState) -> None:
        text = t(watcher.lang, "qr_connected", name=esc(await self._name(slug)), phone=esc(state.phone or "?"))
        await self._replace_photo_caption(slug, watcher, text, None, "connected")

    async def _show_timeout(self, slug: str, watcher: Watcher) -> None:
        text = t(watcher.lang, "qr_timeout", name=esc(await self._name(slug)))
        markup = InlineKeyboardMarkup([[cb.button(t(watcher.lang, "btn.new_qr"), cb.QR, slug)]])
        await self._replace_photo_caption(slug, watcher, text, markup, "timeout")

    async def _replace_photo_caption(self, slug: str, watcher: Watcher, text: str,
                                     markup: InlineKeyboardMarkup | None, what: str) -> None:
        """Turn the QR photo's caption into `text`; send `text` instead when there is no photo to edit."""
        bot = self._require_bot()
        if watcher.message_id is not None:
            done = await with_retry(lambda: bot.edit_message_caption(
                chat_id=watcher.chat_id, message_id=watcher.message_id, caption=text, reply_markup=markup),
                f"QR {what} caption for {slug}")
            if done is not None:
                return
        await with_retry(lambda: bot.send_message(watcher.chat_id, text, reply_markup=markup),
                         f"QR {what} note for {slug}")

    # --- small parts -----------------------------------------------------------------

    async def _save(self, slug: str, watcher: Watcher) -> None:
        if self._saved is not None and watcher.chat_id in self._watchers.get(slug, {}):
            await self._saved.save(slug, watcher)

    def _expired(self, state: WhatsAppState) -> bool:
        return state.qr_expires_at is not None and state.qr_expires_at <= self._clock.now()

    async def _name(self, slug: str) -> str:
        tenant = await self._tenants.find(slug)
        return tenant.name if tenant else slug

    def _lock(self, slug: str) -> asyncio.Lock:
        return self._locks.setdefault(slug, asyncio.Lock())

    def _require_bot(self) -> Bot:
        if self._bot is None:
            raise RuntimeError("QrDelivery used before AdminBot.start()")
        return self._bot
