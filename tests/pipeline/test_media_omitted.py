"""Media the bridge could not bring (`media_omitted`) and messages WhatsApp delivered late
(`backlog`), as the customer and the owner see them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT

AUDIO_LOST = "No pude recibir tu audio (es muy largo o no se descargó). ¿Me lo escribes?"


def texts(bridge, chat=CUSTOMER_CHAT):
    return [s["text"] for s in bridge.sent if s["chat"] == chat]


@pytest.mark.parametrize("why", ["too_large", "download_failed", "download_timeout"])
async def test_a_voice_note_that_did_not_arrive_asks_the_customer_to_write_once_an_hour(rig, clock, why):
    await rig.add_tenant()
    bridge = await rig.connect()
    for _ in range(2):
        await bridge.wait_for_ack(await bridge.send_message(CUSTOMER, None, kind="audio", media_omitted=why))
    await bridge.wait_for_sent()
    await rig.idle()
    assert texts(bridge) == [AUDIO_LOST]  # not "I only read text and voice notes", and only once
    clock.advance(hours=1, minutes=1)
    await bridge.send_message(CUSTOMER, None, kind="audio", media_omitted=why)
    await bridge.wait_for_sent(count=2)
    await rig.idle()
    assert texts(bridge) == [AUDIO_LOST, AUDIO_LOST]
    assert rig.openai.responses_created == 0


async def test_a_lost_voice_note_and_an_unsupported_kind_each_get_their_own_notice(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    tenant = await rig.tenants.get("panaderia")
    await bridge.send_message(CUSTOMER, None, kind="audio", media_omitted="too_large")
    await bridge.send_message(CUSTOMER, None, kind="image", media_omitted="download_failed")
    await bridge.send_message(CUSTOMER, None, kind="sticker")
    await bridge.wait_for_sent(count=2)
    await rig.idle()
    assert texts(bridge) == [AUDIO_LOST, tenant.settings.unsupported_text]  # the lost image shares the hour


async def test_an_image_that_did_not_arrive_but_has_a_caption_is_answered_from_the_caption(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "¿tienen esta torta?", kind="image", media_omitted="too_large")
    await bridge.wait_for_sent()
    assert texts(bridge) == ["Respuesta a: ¿tienen esta torta?"]


async def test_an_owner_message_delivered_late_from_whatsapps_queue_hands_off_from_when_it_was_written(rig):
    await rig.add_tenant(handoff_hours=2)
    bridge = await rig.connect()
    written = rig.clock.now() - timedelta(hours=3)  # typed while the bridge was offline
    await bridge.wait_for_ack(await bridge.send_message(
        CUSTOMER_CHAT, "Hola, soy Ana de la panadería", from_me=True, backlog=True, timestamp=int(written.timestamp())))
    await rig.idle()
    await bridge.send_message(CUSTOMER, "¿siguen ahí?")  # the handoff ended an hour ago
    await bridge.wait_for_sent()
    assert texts(bridge) == ["Respuesta a: ¿siguen ahí?"]


async def test_a_late_pausar_from_whatsapps_queue_still_holds_the_chat(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    written = rig.clock.now() - timedelta(hours=5)
    await bridge.wait_for_ack(await bridge.send_message(
        CUSTOMER_CHAT, "pausar", from_me=True, backlog=True, timestamp=int(written.timestamp())))
    await rig.idle()
    customer = await bridge.send_message(CUSTOMER, "hola", backlog=True, timestamp=int(written.timestamp()) + 60)
    await bridge.wait_for_ack(customer)
    await rig.idle()
    assert texts(bridge) == []
    chat = await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)
    assert chat.paused and chat.paused_at == written
