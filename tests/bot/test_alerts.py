"""Alerts reach every admin once, with a card button, through Telegram's 429s and 500s."""

from __future__ import annotations

from core.events import Alert, AlertKind
from tests.support.bot import ADMIN, OTHER_ADMIN


def texts(rig, admin):
    return [m.body for m in rig.telegram.messages_in(admin)]


async def test_each_alert_reaches_every_admin_once_with_a_card_button(rig):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    await rig.say("/help", lang="en")  # ADMIN writes in English from now on
    for kind in (AlertKind.BANNED, AlertKind.CRASH_LOOP, AlertKind.OPENAI_KEY_INVALID,
                 AlertKind.OPENAI_QUOTA, AlertKind.OPENAI_RECOVERED, AlertKind.LOGGED_OUT):
        rig.relay.bus.publish(Alert("tienda-sol", kind))
    await rig.wait_for(lambda m: "logged out from the phone" in m.body, user=ADMIN)
    await rig.wait_for(lambda m: "desvinculado desde el teléfono" in m.body, user=OTHER_ADMIN)
    await rig.relay.bus.drain()
    mine = texts(rig, ADMIN)[1:]
    theirs = texts(rig, OTHER_ADMIN)
    assert len(mine) == 6 and len(theirs) == 6
    assert "banned" in mine[0] and "keeps crashing" in mine[1] and "/key tienda-sol" in mine[2]
    assert "bloqueó" in theirs[0] and "sin saldo" in theirs[3] and "vuelve a responder" in theirs[4]
    alert = rig.telegram.messages_in(OTHER_ADMIN)[0]
    card = await rig.tap(alert, "Ver Tienda Sol", user=OTHER_ADMIN)
    assert "<code>tienda-sol</code>" in card.body


async def test_bridge_connection_alert_is_sent_once_per_change(rig):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    bridge = await rig.connect_bridge("tienda-sol", state="connected")
    await rig.wait_for(lambda m: "se conectó" in m.body, user=OTHER_ADMIN)
    await bridge.reconnect()  # the same status again: no news
    await bridge.send_status("logged_out")
    await rig.wait_for(lambda m: "desvinculado" in m.body, user=ADMIN)
    await rig.relay.bus.drain()
    for admin in (ADMIN, OTHER_ADMIN):
        assert [("conectó" in b, "desvinculado" in b) for b in texts(rig, admin)] == [(True, False), (False, True)]


async def test_alerts_survive_telegram_429_and_500(rig):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    rig.telegram.fail_next("sendMessage", 1, status=429, retry_after=1)
    rig.telegram.fail_next("sendMessage", 2, status=500)
    rig.relay.bus.publish(Alert("tienda-sol", AlertKind.BANNED))
    await rig.wait_for(lambda m: "bloqueó" in m.body, user=ADMIN, timeout=15)
    await rig.wait_for(lambda m: "bloqueó" in m.body, user=OTHER_ADMIN, timeout=15)
    await rig.relay.bus.drain()
    assert len(texts(rig, ADMIN)) == 1 and len(texts(rig, OTHER_ADMIN)) == 1
    assert [c.status for c in rig.telegram.calls("sendMessage")].count(200) == 2


async def test_a_command_reply_survives_telegram_429(rig):
    rig.telegram.fail_next("sendMessage", 1, status=429, retry_after=1)
    reply = await rig.say("/help")
    assert "/newtenant" in reply.body
    assert [c.status for c in rig.telegram.calls("sendMessage")] == [429, 200]


async def test_a_temporary_ban_says_until_when_and_the_card_shows_it(rig):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    bridge = await rig.connect_bridge("tienda-sol", state="connected")
    await rig.wait_for(lambda m: "se conectó" in m.body)
    await bridge.send_status("banned", reason="temporarily_banned", until="2026-12-03T08:30:00.000Z")
    alert = await rig.wait_for(lambda m: "temporalmente" in m.body)
    assert "hasta el 2026-12-03 08:30 UTC" in alert.body and "+56911112222" in alert.body
    assert "permanente" not in alert.body
    card = await rig.say("/tenant tienda-sol")
    assert "bloqueado por WhatsApp hasta el 2026-12-03 08:30 UTC" in card.body
    # the ban turning permanent is news of its own
    await bridge.send_status("banned", reason="banned")
    final = await rig.wait_for(lambda m: "de forma permanente" in m.body)
    assert "temporalmente" not in final.body


async def test_a_permanent_ban_and_a_phone_gone_from_the_device_are_worded_for_what_happened(rig):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    await rig.add_tenant("tienda-luna", "Tienda Luna")
    await rig.say("/help", lang="en")
    sol = await rig.connect_bridge("tienda-sol", state="connected")
    luna = await rig.connect_bridge("tienda-luna", state="connected")
    await sol.send_status("banned", reason="banned")
    await luna.send_status("logged_out", reason="primary_device_gone")
    banned = await rig.wait_for(lambda m: "Tienda Sol" in m.body and "banned" in m.body)
    assert "for good" in banned.body
    gone = await rig.wait_for(lambda m: "Tienda Luna" in m.body and "left this device" in m.body)
    assert "new phone" in gone.body and "linked again" in gone.body
    spanish = await rig.wait_for(lambda m: "Tienda Luna" in m.body and "dispositivo" in m.body, user=OTHER_ADMIN)
    assert "teléfono nuevo o quedó bloqueada" in spanish.body


async def test_a_refused_reply_alert_names_the_customer_and_whatsapps_error_code(rig):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    rig.relay.bus.publish(Alert("tienda-sol", AlertKind.SEND_FAILED, {
        "chat": "56933334444@s.whatsapp.net", "error": "463: Your account has been restricted"}))
    alert = await rig.wait_for(lambda m: "rechazó" in m.body)
    assert "un cliente (+56933334444) no la recibió (error 463 de WhatsApp)" in alert.body
    assert "No se reenvía" in alert.body and "restricted" not in alert.body


async def test_an_assistant_handoff_alert_names_the_customer_and_the_reason(rig):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    rig.relay.bus.publish(Alert("tienda-sol", AlertKind.AI_HANDOFF, {
        "chat": "56933334444@s.whatsapp.net", "reason": "quiere un reembolso <ya>"}))
    alert = await rig.wait_for(lambda m: "pasó un chat" in m.body)
    assert "cliente (+56933334444)" in alert.body and "Motivo: quiere un reembolso &lt;ya&gt;" in alert.body


async def test_budget_alerts_say_the_spend_the_budget_and_what_happens_now(rig):
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    detail = {"spent": "8.00", "budget": "10.00", "month": "2026-12"}
    rig.relay.bus.publish(Alert("tienda-sol", AlertKind.BUDGET_WARNING, detail))
    warning = await rig.wait_for(lambda m: "80 %" in m.body)
    assert warning.body == ("💸 <b>Tienda Sol</b> ya gastó el 80 % de su presupuesto de OpenAI del mes (2026-12): "
                            "US$ 8,00 de US$ 10,00.")
    rig.relay.bus.publish(Alert("tienda-sol", AlertKind.BUDGET_STOPPED, {**detail, "spent": "10.40"}))
    stopped = await rig.wait_for(lambda m: "alcanzó" in m.body)
    assert stopped.body == ("🛑 <b>Tienda Sol</b> alcanzó su presupuesto de OpenAI del mes (2026-12): US$ 10,40 de "
                            "US$ 10,00. El asistente no responde hasta fin de mes o hasta que subas el presupuesto "
                            "(<code>/budget tienda-sol &lt;usd&gt;</code>).")
    rig.relay.bus.publish(Alert("tienda-sol", AlertKind.BUDGET_FALLBACK, {**detail, "model": "gpt-4.1-nano"}))
    fallback = await rig.wait_for(lambda m: "responde con" in m.body)
    assert fallback.body.endswith("Hasta fin de mes el asistente responde con gpt-4.1-nano.")


async def test_knowledge_alerts_say_which_document_or_store_and_that_the_bot_keeps_answering(rig):
    # The relay publishes these (relay/pipeline/owner.py for `aprende`, relay/pipeline/turns.py
    # when a store was deleted at OpenAI), with the detail keys used here.
    await rig.add_tenant("tienda-sol", "Tienda Sol")
    rig.relay.bus.publish(Alert("tienda-sol", AlertKind.KNOWLEDGE_FAILED, {
        "file": "menu <2026>.pdf", "code": "rejected", "reason": "File is empty"}))
    rejected = await rig.wait_for(lambda m: "no aceptó" in m.body)
    assert rejected.body == ("📚 OpenAI no aceptó el documento menu &lt;2026&gt;.pdf de <b>Tienda Sol</b>: "
                             "File is empty. El asistente sigue respondiendo sin él.")
    rig.relay.bus.publish(Alert("tienda-sol", AlertKind.KNOWLEDGE_FAILED, {
        "file": "precios.docx", "code": "bad_key", "reason": ""}))
    bad_key = await rig.wait_for(lambda m: "rechazó su clave" in m.body)
    assert "no pudo aprender precios.docx" in bad_key.body and "/key tienda-sol" in bad_key.body
    rig.relay.bus.publish(Alert("tienda-sol", AlertKind.KNOWLEDGE_GONE, {"vector_store": "vs_abc123"}))
    gone = await rig.wait_for(lambda m: "ya no existe en OpenAI" in m.body)
    assert "vs_abc123" in gone.body and "/kb tienda-sol" in gone.body
