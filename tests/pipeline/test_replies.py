"""A customer writes on WhatsApp and gets the assistant's reply: the basic path."""

from __future__ import annotations

import asyncio
import base64
import hashlib

from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, OWNER_PHONE


def texts(bridge, chat=CUSTOMER_CHAT):
    return [s["text"] for s in bridge.sent if s["chat"] == chat]


async def test_customer_message_gets_the_assistant_reply(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    mid = await bridge.send_message(CUSTOMER, "¿Abren hoy?", push_name="Ana")
    sent = await bridge.wait_for_sent()
    assert sent[0]["chat"] == CUSTOMER_CHAT
    assert sent[0]["text"] == "Respuesta a: ¿Abren hoy?"
    assert mid in bridge.acks
    request = rig.openai.last_request
    tenant = await rig.tenants.get("panaderia")
    assert (request.model, request.instructions) == (tenant.model, tenant.instructions)
    assert request.conversation and request.conversation.startswith("conv_")
    expected = hashlib.sha256(f"panaderia\n{CUSTOMER_CHAT}".encode()).hexdigest()
    assert request.safety_identifier and expected.startswith(request.safety_identifier)
    # "typing…" while OpenAI thinks; the reply itself ends it (docs/PROTOCOL.md, `typing`)
    frames = [(f["type"], f.get("state")) for f in bridge.received if f.get("chat") == CUSTOMER_CHAT
              and f["type"] in ("typing", "send")]
    assert frames == [("typing", "composing"), ("send", None)]


async def test_one_conversation_per_chat_is_reused_across_turns(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "hola")
    await bridge.wait_for_sent()
    await bridge.send_message(CUSTOMER, "¿y mañana?")
    await bridge.wait_for_sent(count=2)
    first, second = rig.openai.response_requests
    assert first.conversation == second.conversation
    assert rig.openai.conversations_created == 1
    assert len(second.history) == 2


async def test_messages_within_the_debounce_window_are_one_turn(rig):
    await rig.add_tenant(debounce_seconds=0.3)
    bridge = await rig.connect()
    for text in ("hola", "quería saber", "¿tienen pan integral?"):
        await bridge.send_message(CUSTOMER, text)
    await bridge.wait_for_sent()
    await rig.idle()
    assert texts(bridge) == ["Respuesta a: hola\nquería saber\n¿tienen pan integral?"]
    assert rig.openai.responses_created == 1


async def test_messages_arriving_while_answering_join_the_next_turn_in_order(rig):
    await rig.add_tenant()
    rig.openai.latency = 0.3
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "uno")
    await bridge.wait_for_frame("typing", lambda f: f["state"] == "composing")  # "uno" is being answered
    await bridge.send_message(CUSTOMER, "dos")
    await bridge.send_message(CUSTOMER, "tres")
    await bridge.wait_for_sent(count=2)
    await rig.idle()
    assert texts(bridge) == ["Respuesta a: uno", "Respuesta a: dos\ntres"]


async def test_chats_are_answered_concurrently(rig):
    await rig.add_tenant()
    rig.openai.latency = 0.4
    bridge = await rig.connect()
    for n in range(5):
        await bridge.send_message(f"54911000000{n}", f"hola {n}")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bridge.wait_for_sent(count=5)
    elapsed = loop.time() - started
    assert elapsed < 1.5  # five chats one after another would take 2 s


async def test_repeated_message_id_is_acked_again_and_answered_once(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    mid = await bridge.send_message(CUSTOMER, "hola")
    await bridge.wait_for_sent()
    await bridge.send_message(CUSTOMER, "hola", id=mid)
    await rig.wait_for(lambda: bridge.acks.count(mid) == 2)
    await rig.idle()
    assert texts(bridge) == ["Respuesta a: hola"]
    assert rig.openai.responses_created == 1


async def test_group_messages_are_ignored_unless_groups_are_enabled(rig):
    await rig.add_tenant("grupos-no")
    await rig.add_tenant("grupos-si", key="sk-test-grupos-si-00000001", groups_enabled=True)
    closed = await rig.connect("grupos-no")
    opened = await rig.connect("grupos-si")
    mid = await closed.send_message("120363000000001", "hola grupo", is_group=True)
    await closed.wait_for_ack(mid)
    await opened.send_message("120363000000002", "hola grupo", is_group=True)
    reply = await opened.wait_for_sent()
    await rig.idle()
    assert reply[0]["chat"] == "120363000000002@g.us"
    assert closed.sent == []


async def test_own_and_bridge_sent_messages_are_never_answered(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "hola")
    await bridge.wait_for_sent()  # the bridge echoes it back as from_me + sent_by_bridge
    echo = await bridge.send_message(CUSTOMER, "Respuesta a: hola", from_me=True, sent_by_bridge=True)
    status = await bridge.send_message("status@broadcast", "mi estado")
    await bridge.wait_for_ack(echo)
    await bridge.wait_for_ack(status)
    await rig.idle()
    assert len(bridge.sent) == 1
    assert rig.openai.responses_created == 1
    chat = await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)
    assert chat.pause_kind is None  # the bot's own message is no handoff


async def test_long_answer_is_split_on_paragraphs_into_messages_of_at_most_4000_chars(rig):
    await rig.add_tenant()
    paragraphs = [f"Párrafo {n}:" + " pan" * 400 for n in range(6)]
    rig.openai.reply = lambda request: "\n\n".join(paragraphs)
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "cuéntame todo")
    await bridge.wait_for_sent(count=3)
    await rig.idle()
    sent = texts(bridge)
    assert all(len(text) <= 4000 for text in sent)
    assert "\n\n".join(sent) == "\n\n".join(paragraphs)
    assert all(text.startswith("Párrafo") for text in sent)


async def test_voice_note_is_transcribed_and_answered_as_text(rig):
    await rig.add_tenant()
    rig.openai.transcribe = lambda request: "¿a qué hora cierran?"
    bridge = await rig.connect()
    audio = b"OggS-fake-voice"
    await bridge.send_message(CUSTOMER, None, kind="audio", media={
        "mime": "audio/ogg; codecs=opus", "data_base64": base64.b64encode(audio).decode(), "seconds": 3})
    await bridge.wait_for_sent()
    assert texts(bridge) == ["Respuesta a: ¿a qué hora cierran?"]
    transcription = rig.openai.transcription_requests[0]
    assert (transcription.filename, transcription.content_type, transcription.data) == ("voice.ogg", "audio/ogg", audio)
    assert transcription.model == rig.settings.openai_transcription_model


async def test_image_is_sent_with_its_caption(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    png = b"\x89PNG\r\n\x1a\nfake"
    await bridge.send_message(CUSTOMER, "¿tienen esta torta?", kind="image", media={
        "mime": "image/png", "data_base64": base64.b64encode(png).decode()})
    await bridge.wait_for_sent()
    assert texts(bridge) == ["Respuesta a: [imagen] ¿tienen esta torta?"]
    content = rig.openai.last_request.input[0]["content"]
    # `detail` is required by OpenAI's schema (InputImageContent.required = [type, detail]).
    assert content[0] == {"type": "input_image", "image_url": "data:image/png;base64," + base64.b64encode(png).decode(),
                          "detail": "auto"}


async def test_unsupported_kind_gets_the_notice_once_per_hour(rig, clock):
    await rig.add_tenant()
    bridge = await rig.connect()
    tenant = await rig.tenants.get("panaderia")
    for _ in range(2):
        mid = await bridge.send_message(CUSTOMER, None, kind="sticker")
        await bridge.wait_for_ack(mid)
    await rig.idle()
    assert texts(bridge) == [tenant.settings.unsupported_text]
    clock.advance(hours=1, minutes=1)
    await bridge.send_message(CUSTOMER, None, kind="location")
    await bridge.wait_for_sent(count=2)
    assert rig.openai.responses_created == 0


async def test_owner_phone_comes_from_the_bridge_status(rig):
    await rig.add_tenant()
    await rig.connect()
    assert rig.pipeline.owner.owner_phone(await rig.tenants.get("panaderia")) == OWNER_PHONE
