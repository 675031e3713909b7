"""The fakes work with the real client libraries: openai, python-telegram-bot, aiohttp."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.ext import (
    AIORateLimiter, Application, CallbackQueryHandler, CommandHandler, ContextTypes,
)

from tests.fakes import BridgeRejected, FakeBridge, FakeOpenAI, FakeRelay, FakeTelegram

PNG_A = b"\x89PNG\r\n\x1a\nfirst-image"
PNG_B = b"\x89PNG\r\n\x1a\nsecond-image"


# -- OpenAI ------------------------------------------------------------------

@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def openai_client(fake: FakeOpenAI, key: str = "sk-test-tenant-a", **kwargs) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{fake.url}/v1", api_key=key, max_retries=0, **kwargs)


async def test_openai_conversation_reply_reaches_sdk_as_output_text(fake_openai: FakeOpenAI) -> None:
    async with openai_client(fake_openai) as client:
        conversation = await client.conversations.create()
        response = await client.responses.create(
            model="gpt-4.1-mini", conversation=conversation.id, input="Hola, ¿abren hoy?",
            instructions="Sos el asistente de la panadería.", safety_identifier="chat-hash-1")
        second = await client.responses.create(
            model="gpt-4.1-mini", conversation=conversation.id,
            input=[{"role": "user", "content": [
                {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "auto"},
                {"type": "input_text", "text": "¿esto es pan?"}]}])
        deleted = await client.conversations.delete(conversation.id)

    assert conversation.id.startswith("conv_")
    assert response.output_text == "Respuesta a: Hola, ¿abren hoy?"
    assert second.output_text == "Respuesta a: [imagen] ¿esto es pan?"
    first = fake_openai.response_requests[0]
    assert (first.model, first.instructions, first.conversation, first.safety_identifier) == (
        "gpt-4.1-mini", "Sos el asistente de la panadería.", conversation.id, "chat-hash-1")
    assert len(fake_openai.response_requests[1].history) == 2  # first turn's input and reply
    assert deleted.deleted is True
    assert (fake_openai.conversations_created, fake_openai.conversations_deleted,
            fake_openai.responses_created) == (1, 1, 2)


async def test_openai_refuses_what_its_published_schema_refuses() -> None:
    # openai/openai-openapi openapi.json: InputImageContent.required = [type, detail];
    # FileSearchTool.required = [type, vector_store_ids]. The SDK sends both as given.
    async with FakeOpenAI() as fake:
        fake.expect_invalid = True
        async with openai_client(fake) as client:
            with pytest.raises(openai.BadRequestError) as no_detail:
                await client.responses.create(model="gpt-4.1-mini", input=[{"role": "user", "content": [
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}]}])
            with pytest.raises(openai.BadRequestError) as no_stores:
                await client.responses.create(model="gpt-4.1-mini", input="hola", tools=[{"type": "file_search"}])
            store = await client.vector_stores.create(name="puente-panaderia")
            fine = await client.responses.create(model="gpt-4.1-mini", input="hola", tools=[
                {"type": "file_search", "vector_store_ids": [store.id]}])
    assert "['input'][0]['content'][0]: 'detail' is a required property" in no_detail.value.message
    assert "['tools'][0]: 'vector_store_ids' is a required property" in no_stores.value.message
    assert fine.output_text.startswith("Respuesta a: hola")
    assert [problem for _, path, problem in fake.invalid_requests] == [
        "['input'][0]['content'][0]: 'detail' is a required property",
        "['tools'][0]: 'vector_store_ids' is a required property"]
    assert fake.responses_created == 1


async def test_openai_fake_fails_the_test_that_sent_a_refused_request() -> None:
    with pytest.raises(AssertionError, match="requests OpenAI's schema refuses"):
        async with FakeOpenAI() as fake:
            async with openai_client(fake) as client:
                with pytest.raises(openai.BadRequestError):
                    await client.conversations.items.create("conv_x", items=[{"type": "function_call_output"}])


async def test_openai_deleting_unknown_conversation_is_not_found(fake_openai: FakeOpenAI) -> None:
    async with openai_client(fake_openai) as client:
        with pytest.raises(openai.NotFoundError):
            await client.conversations.delete("conv_missing")


async def test_openai_invalid_key_raises_authentication_error(fake_openai: FakeOpenAI) -> None:
    async with openai_client(fake_openai, key="sk-fake-wrong") as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            await client.responses.create(model="gpt-4.1-mini", input="hola")
    assert caught.value.code == "invalid_api_key"
    assert fake_openai.responses_created == 0


async def test_openai_exhausted_quota_raises_rate_limit_error_with_code(fake_openai: FakeOpenAI) -> None:
    fake_openai.set_quota_exhausted("sk-test-tenant-a")
    async with openai_client(fake_openai) as client:
        with pytest.raises(openai.RateLimitError) as caught:
            await client.responses.create(model="gpt-4.1-mini", input="hola")
    assert caught.value.code == "insufficient_quota"
    async with openai_client(fake_openai, key="sk-test-tenant-b") as other:
        assert (await other.responses.create(model="gpt-4.1-mini", input="hola")).output_text


async def test_openai_injected_failures_reach_the_sdk(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next("timeout")
    fake_openai.fail_next("500")
    async with openai_client(fake_openai, timeout=0.3) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.responses.create(model="gpt-4.1-mini", input="hola")
        with pytest.raises(openai.InternalServerError):
            await client.responses.create(model="gpt-4.1-mini", input="hola")
    fake_openai.fail_next("429_rate")
    async with openai.AsyncOpenAI(base_url=f"{fake_openai.url}/v1", api_key="sk-test-x") as retrying:
        reply = await retrying.responses.create(model="gpt-4.1-mini", input="de nuevo")
    assert reply.output_text == "Respuesta a: de nuevo"
    assert [kind for _, kind in fake_openai.failures] == ["timeout", "500", "429_rate"]


async def test_openai_transcription_records_the_upload(fake_openai: FakeOpenAI) -> None:
    async with openai_client(fake_openai) as client:
        result = await client.audio.transcriptions.create(
            file=("voice.ogg", b"OggS-fake-audio", "audio/ogg"), model="gpt-4o-mini-transcribe")
    assert result.text == "transcripción de voice.ogg"
    upload = fake_openai.transcription_requests[0]
    assert (upload.filename, upload.content_type, upload.model, upload.data) == (
        "voice.ogg", "audio/ogg", "gpt-4o-mini-transcribe", b"OggS-fake-audio")
    assert fake_openai.transcriptions == 1


# -- Telegram ----------------------------------------------------------------

@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def start_start_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"Hola {update.effective_user.first_name}")


async def menu_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Pausar", callback_data="pause")]])
    await update.effective_message.reply_text(f"Menú {' '.join(context.args)}", reply_markup=keyboard)


async def button_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer("Listo")
    lang = update.effective_user.language_code
    await update.callback_query.edit_message_text(f"Pausado ({lang})")


@pytest.fixture
async def polling_app(fake_telegram: FakeTelegram) -> AsyncIterator[Application]:
    app = (Application.builder().token(fake_telegram.token)
           .base_url(fake_telegram.api_url).base_file_url(fake_telegram.file_url)
           .rate_limiter(AIORateLimiter(max_retries=2)).build())
    app.add_handler(CommandHandler("start", start_start_reply))
    app.add_handler(CommandHandler("menu", menu_reply))
    app.add_handler(CallbackQueryHandler(button_pressed))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(timeout=2)
    yield app
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def test_ptb_start_command_reply_appears_in_user_chat(
        fake_telegram: FakeTelegram, polling_app: Application) -> None:
    fake_telegram.push_message(4242, "/start", first_name="Lucía")

    reply = await fake_telegram.wait_for_message(4242, lambda m: m.text == "Hola Lucía")

    assert reply.from_bot and reply.kind == "text"
    assert [m.body for m in fake_telegram.messages_in(4242, include_user=True)] == ["/start", "Hola Lucía"]
    assert polling_app.bot.username == "puente_test_bot"


async def test_ptb_inline_button_press_edits_the_menu(
        fake_telegram: FakeTelegram, polling_app: Application) -> None:
    fake_telegram.push_message(4242, "/menu tienda", language_code="pt")
    menu = await fake_telegram.wait_for_message(4242, lambda m: m.button_texts == ["Pausar"])

    fake_telegram.push_callback(4242, menu.message_id, menu.callback_data("Pausar"))
    edited = await fake_telegram.wait_for_message(4242, lambda m: m.text == "Pausado (pt)")

    assert edited.message_id == menu.message_id and edited.reply_markup is None
    assert [e.text for e in edited.edits] == ["Menú tienda"]
    answer = await fake_telegram.wait_for_call("answerCallbackQuery")
    assert answer.params["text"] == "Listo"


async def test_ptb_edit_message_media_replaces_photo_in_place(
        fake_telegram: FakeTelegram, polling_app: Application) -> None:
    bot = polling_app.bot
    sent = await bot.send_photo(77, photo=PNG_A, caption="Escaneá el QR")
    await bot.edit_message_media(chat_id=77, message_id=sent.message_id,
                                 media=InputMediaPhoto(PNG_B, caption="QR nuevo"))

    [message] = fake_telegram.messages_in(77)
    assert message.message_id == sent.message_id
    assert (message.photo, message.caption) == (PNG_B, "QR nuevo")
    assert [edit.photo for edit in message.edits] == [PNG_A]


async def test_ptb_rate_limiter_survives_one_429(
        fake_telegram: FakeTelegram, polling_app: Application) -> None:
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1)

    await polling_app.bot.send_message(55, "después del límite")

    assert [m.text for m in fake_telegram.messages_in(55)] == ["después del límite"]
    assert [c.status for c in fake_telegram.calls("sendMessage")] == [429, 200]


# -- Bridge <-> relay --------------------------------------------------------

@pytest.fixture
async def fake_relay() -> AsyncIterator[FakeRelay]:
    async with FakeRelay({"panaderia": "secret-pan"}) as relay:
        yield relay


async def test_bridge_handshake_status_and_acked_message(fake_relay: FakeRelay) -> None:
    async with FakeBridge(fake_relay.ws_url, "panaderia", "secret-pan") as bridge:
        message_id = await bridge.send_message("5491122223333", "hola", push_name="Marta")
        await bridge.wait_for_ack(message_id)
        result = await fake_relay.command("panaderia", {"type": "send", "chat":
                                                        "5491122223333@s.whatsapp.net", "text": "¡Hola!"})
        again = await fake_relay.command("panaderia", {"type": "send", "ref": result["ref"],
                                                        "chat": "5491122223333@s.whatsapp.net",
                                                        "text": "¡Hola!"})
        await bridge.wait_for_ack(result["message_id"])  # the bridge echoes what it sent

    assert fake_relay.statuses("panaderia")[0]["state"] == "connected"
    assert fake_relay.messages["panaderia"][message_id]["text"] == "hola"
    assert result["ok"] and again["message_id"] == result["message_id"]
    assert [s["text"] for s in bridge.sent] == ["¡Hola!"]
    echo = fake_relay.messages["panaderia"][result["message_id"]]
    assert echo["from_me"] and echo["sent_by_bridge"]
    assert not bridge.unacked


async def test_bridge_resends_unacked_messages_in_order_after_drop(fake_relay: FakeRelay) -> None:
    fake_relay.auto_ack = False
    async with FakeBridge(fake_relay.ws_url, "panaderia", "secret-pan") as bridge:
        first = await bridge.send_message("5491122223333", "uno")
        second = await bridge.send_message("5491122223333", "dos")
        await fake_relay.wait_deliveries("panaderia", second, 1)
        await bridge.drop()
        fake_relay.auto_ack = True
        await bridge.connect()
        await bridge.wait_for_ack(second)

    assert fake_relay.deliveries["panaderia"] == [first, second, first, second]
    assert bridge.connections == 2 and not bridge.unacked


async def test_bridge_with_wrong_token_is_refused_with_401(fake_relay: FakeRelay) -> None:
    bridge = FakeBridge(fake_relay.ws_url, "panaderia", "not-the-secret")
    with pytest.raises(BridgeRejected) as caught:
        await bridge.start()
    await bridge.stop()
    assert caught.value.status == 401 and fake_relay.rejected == 1


async def test_bridge_run_forever_reconnects_then_exits_on_4410(fake_relay: FakeRelay) -> None:
    bridge = FakeBridge(fake_relay.ws_url, "panaderia", "secret-pan", run_forever=True)
    await bridge.start()
    await bridge.drop()
    await fake_relay.wait_connected("panaderia", connects=2)
    await fake_relay.close_tenant("panaderia", 4410)
    assert await bridge.wait_exited() == 4410
    await bridge.stop()
