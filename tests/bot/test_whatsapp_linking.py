"""QR photos edited in place, the connected message, QR timeout, pairing codes, log out."""

from __future__ import annotations

import re

from bot.qr_image import png_size
from tests.support.bot import ADMIN


def photos(rig):
    return [m for m in rig.telegram.messages_in(ADMIN) if m.kind == "photo"]


async def test_qr_photo_is_replaced_in_place_then_says_connected(rig):
    await rig.add_tenant("tienda-sol", "Tienda <Sol>")
    bridge = await rig.connect_bridge("tienda-sol")
    asking = await rig.say("/qr tienda-sol")
    assert "Pidiendo un QR" in asking.body
    await bridge.send_qr("2@first-qr-payload")
    photo = await rig.wait_for(lambda m: m.kind == "photo")
    first_bytes = photo.photo
    assert png_size(first_bytes)[0] >= 400 and "Tienda &lt;Sol&gt;" in photo.caption
    assert re.search(r"Este código vence en (19|20) s\.", photo.caption), photo.caption
    await bridge.send_qr("2@second-qr-payload")
    await rig.wait_for(lambda m: m is photo and len(m.edits) == 1)
    assert photo.photo != first_bytes and len(photos(rig)) == 1
    assert photo.edits[0].method == "editMessageMedia"
    await bridge.send_status("connected", phone="56911112222", name="Sol")
    await rig.wait_for(lambda m: m is photo and "conectado como +56911112222" in (m.caption or ""))
    assert len(photos(rig)) == 1


async def test_qr_from_the_card_and_timeout_offers_a_new_one(rig):
    await rig.add_tenant("tienda-sol")
    bridge = await rig.connect_bridge("tienda-sol")
    card = await rig.say("/tenant tienda-sol")
    await rig.tap(card, "📷 QR")
    await bridge.send_qr("2@qr-one")
    photo = await rig.wait_for(lambda m: m.kind == "photo")
    await bridge.send_status("stopped", reason="qr_timeout")
    await rig.wait_for(lambda m: m is photo and "dejó de emitir" in (m.caption or ""))
    assert "📷 Pedir otro QR" in photo.button_texts


async def test_qr_for_a_connected_tenant_says_so(rig):
    await rig.add_tenant("tienda-sol")
    await rig.connect_bridge("tienda-sol", state="connected")
    await rig.wait_for(lambda m: "se conectó" in m.body)  # the alert
    reply = await rig.say("/qr tienda-sol")
    assert "ya está conectado como +56911112222" in reply.body


async def test_pair_sends_the_code_as_text(rig):
    await rig.add_tenant("tienda-sol")
    bridge = await rig.connect_bridge("tienda-sol")
    reply = await rig.say("/pair tienda-sol +56 9 1234 5678")
    assert "<code>K7Q2M9XZ</code>" in reply.body
    assert bridge.pairs[-1]["phone"] == "56912345678"


async def test_bad_phone_answers_with_the_form_and_asks_nothing_of_the_bridge(rig):
    await rig.add_tenant("tienda-sol")
    bridge = await rig.connect_bridge("tienda-sol")
    reply = await rig.say("/pair tienda-sol 123")
    assert "+56912345678" in reply.body and "/pair &lt;slug&gt;" in reply.body
    assert bridge.pairs == []


async def test_pairing_code_button_asks_for_the_phone(rig):
    await rig.add_tenant("tienda-sol")
    await rig.connect_bridge("tienda-sol")
    card = await rig.say("/tenant tienda-sol")
    assert "teléfono" in (await rig.tap(card, "🔢 Código")).body
    assert "K7Q2M9XZ" in (await rig.say("+56912345678")).body


async def test_logout_after_confirm_reaches_the_bridge(rig):
    await rig.add_tenant("tienda-sol")
    bridge = await rig.connect_bridge("tienda-sol", state="connected")
    await rig.wait_for(lambda m: "se conectó" in m.body)  # the alert
    question = await rig.say("/logout tienda-sol")
    assert bridge.logouts == 0
    await rig.tap(question, "✅ Confirmar")
    await rig.wait_for(lambda m: m is question and "desvinculado" in (m.body or ""))
    assert bridge.logouts == 1


async def test_the_pairing_code_says_how_long_it_can_be_typed(rig):
    await rig.add_tenant("tienda-sol")
    await rig.connect_bridge("tienda-sol")
    reply = await rig.say("/pair tienda-sol +56912345678", lang="en")
    assert "<code>K7Q2M9XZ</code>" in reply.body
    assert "Valid for 3 min" in reply.body
