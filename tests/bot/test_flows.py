"""/newtenant (guided and one-line), /key, /prompt, /settings, /cancel."""

from __future__ import annotations

import re

import socket

from core.events import TenantCreated
from tests.support.bot import ADMIN, BAD_KEY, VALID_KEY, BotRig


def user_message(rig, text):
    return next(m for m in rig.telegram.messages_in(ADMIN, include_user=True) if not m.from_bot and m.text == text)


async def test_guided_newtenant_creates_the_tenant_after_confirm(rig):
    assert "¿Cómo se llama" in (await rig.say("/newtenant")).body
    ask_slug = await rig.say("Panadería <b>Sol</b>")
    assert "panaderia-b-sol-b" in ask_slug.button_texts
    ask_email = await rig.tap(ask_slug, "panaderia-b-sol-b")
    assert "E-mail" in ask_email.body
    assert "OpenAI" in (await rig.say("ana@sol.cl")).body
    await rig.say(VALID_KEY)
    ask_instructions = await rig.wait_for(lambda m: "Instrucciones para el bot" in (m.body or ""))
    assert ask_instructions
    assert user_message(rig, VALID_KEY).deleted
    summary = await rig.say("/skip")
    assert "sk-…kkkk" in summary.body and VALID_KEY not in summary.body
    assert "Panadería &lt;b&gt;Sol&lt;/b&gt;" in summary.body
    await rig.tap(summary, "✅ Confirmar")
    created = await rig.wait_for(lambda m: "creado" in (m.body or ""))
    tenant = await rig.tenants.get("panaderia-b-sol-b")
    assert tenant.email == "ana@sol.cl" and tenant.name == "Panadería <b>Sol</b>"
    token = re.search(r"https://puente\.example/c/([\w-]+)", created.body).group(1)
    assert (await rig.tenants.by_landing_token(token)).slug == tenant.slug  # the link shown opens the page
    assert rig.tenants.openai_key(tenant) == VALID_KEY
    assert any(isinstance(e, TenantCreated) for e in rig.relay.published)
    assert all(VALID_KEY not in (m.body or "") for m in rig.telegram.messages_in(ADMIN))


async def test_invalid_key_is_reported_before_anything_is_stored(rig):
    await rig.say("/newtenant")
    await rig.say("Tienda")
    await rig.say("tienda")
    await rig.say("/skip")
    await rig.say(BAD_KEY)
    refusal = await rig.wait_for(lambda m: "no es válida" in (m.body or ""))
    assert "Envía otra" in refusal.body
    assert user_message(rig, BAD_KEY).deleted
    assert await rig.tenants.find("tienda") is None


async def test_one_line_newtenant_deletes_the_message_and_creates(rig):
    command = f"/newtenant tienda-sol - {VALID_KEY}"
    await rig.say(command)
    created = await rig.wait_for(lambda m: "creado" in (m.body or ""))
    assert user_message(rig, command).deleted
    tenant = await rig.tenants.get("tienda-sol")
    assert tenant.name == "tienda-sol" and tenant.email is None
    token = re.search(r"https://puente\.example/c/([\w-]+)", created.body).group(1)
    assert (await rig.tenants.by_landing_token(token)).slug == "tienda-sol"
    # Its bridge starts (here: a fake one connects) and the first QR arrives as a photo.
    bridge = await rig.connect_bridge("tienda-sol")
    await bridge.send_qr("2@first")
    photo = await rig.wait_for(lambda m: m.kind == "photo")
    assert "tienda-sol" in photo.caption


async def test_a_failed_invite_is_reported_and_the_tenant_is_kept(store, tmp_path):
    rig = BotRig(store, tmp_path / "data", smtp_port=closed_port())
    await rig.start()
    try:
        await rig.say(f"/newtenant tienda-sol ana@sol.cl {VALID_KEY}")
        created = await rig.wait_for(lambda m: "creado" in (m.body or ""), timeout=15)
        assert "No pude enviar la invitación" in created.body
        assert (await rig.tenants.get("tienda-sol")).email == "ana@sol.cl"
    finally:
        await rig.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_one_line_newtenant_with_bad_email_changes_nothing(rig):
    reply = await rig.say(f"/newtenant tienda-sol ana@ {VALID_KEY}")
    assert "nombre@empresa.cl" in reply.body and "/newtenant &lt;slug&gt;" in reply.body
    assert await rig.tenants.find("tienda-sol") is None
    reply = await rig.say(f"/newtenant Tienda_Sol - {VALID_KEY}")
    assert "tienda-sol" in reply.body and await rig.tenants.all() == []


async def test_unreachable_openai_lets_the_admin_keep_the_key(rig):
    await rig.openai.stop()
    await rig.say(f"/newtenant tienda-sol - {VALID_KEY}")
    offer = await rig.wait_for(lambda m: "No pude comunicarme" in (m.body or ""))
    assert await rig.tenants.find("tienda-sol") is None
    await rig.tap(offer, "Guardar la clave igual")
    await rig.wait_for(lambda m: "creado" in (m.body or ""))
    assert await rig.tenants.find("tienda-sol") is not None


async def test_key_command_checks_and_stores_the_new_key(rig, caplog):
    await rig.add_tenant("tienda-sol")
    ask = await rig.say("/key tienda-sol")
    assert "sk-…kkkk" in ask.body
    await rig.say(BAD_KEY)
    await rig.wait_for(lambda m: "no es válida" in (m.body or ""))
    new_key = "sk-test-" + "n" * 30 + "wxyz"
    await rig.say(new_key)
    saved = await rig.wait_for(lambda m: "guardada" in (m.body or ""))
    assert "sk-…wxyz" in saved.body
    assert user_message(rig, new_key).deleted and user_message(rig, BAD_KEY).deleted
    assert rig.tenants.openai_key(await rig.tenants.get("tienda-sol")) == new_key
    assert new_key not in caplog.text and BAD_KEY not in caplog.text


async def test_prompt_shows_current_instructions_then_replaces_them(rig):
    await rig.add_tenant("tienda-sol")
    current = await rig.say("/prompt tienda-sol")
    assert "Eres el asistente" in current.body
    saved = await rig.say("Vendes pan. <Responde> breve.")
    assert "guardadas" in saved.body
    assert (await rig.tenants.get("tienda-sol")).instructions == "Vendes pan. <Responde> breve."


async def test_cancel_leaves_a_flow_and_changes_nothing(rig):
    await rig.add_tenant("tienda-sol")
    await rig.say("/prompt tienda-sol")
    assert (await rig.say("/cancel")).body == "Cancelado."
    assert "No estoy esperando" in (await rig.say("texto suelto")).body
    assert (await rig.tenants.get("tienda-sol")).instructions.startswith("Eres el asistente")
    assert (await rig.say("/cancel")).body == "No hay nada que cancelar."


async def test_settings_toggle_in_place_and_ask_for_numbers(rig):
    await rig.add_tenant("tienda-sol")
    panel = await rig.say("/settings tienda-sol", lang="en")
    assert "❌ Groups" in panel.button_texts
    await rig.tap(panel, "❌ Groups")
    assert "✅ Groups" in panel.button_texts
    assert (await rig.tenants.get("tienda-sol")).settings.groups_enabled is True
    question = await rig.tap(panel, "✏️ Debounce (s): 2")
    assert "now: 2" in question.body
    assert "from 0 to 60" in (await rig.say("999", lang="en")).body
    await rig.say("5", lang="en")
    await rig.wait_for(lambda m: "✏️ Debounce (s): 5" in m.button_texts)
    assert (await rig.tenants.get("tienda-sol")).settings.debounce_seconds == 5.0


async def test_settings_reject_calls_and_the_callers_message_reach_the_bridge(rig):
    await rig.add_tenant("tienda-sol")
    bridge = await rig.connect_bridge("tienda-sol", state="connected")
    await rig.wait_for(lambda m: "se conectó" in m.body)  # the alert, out of the way of the replies
    panel = await rig.say("/settings tienda-sol")
    assert "❌ Rechazar llamadas" in panel.button_texts
    await rig.tap(panel, "❌ Rechazar llamadas")
    assert "✅ Rechazar llamadas" in panel.button_texts
    frame = await bridge.wait_for_frame("config", lambda f: f["config"]["reject_calls"])
    assert frame["config"]["call_message"] == "No puedo atender llamadas, escríbeme por aquí"
    question = await rig.tap(panel, "✏️ Aviso a quien llama: No puedo atender llamada…")
    assert "No puedo atender llamadas, escríbeme por aquí" in question.body
    await rig.say("Hoy no atiendo llamadas; escríbeme y te respondo al tiro")
    await rig.wait_for(lambda m: "✏️ Aviso a quien llama: Hoy no atiendo llamadas;…" in m.button_texts)
    settings = (await rig.tenants.get("tienda-sol")).settings
    assert (settings.reject_calls, settings.call_message) == (
        True, "Hoy no atiendo llamadas; escríbeme y te respondo al tiro")
    frame = await bridge.wait_for_frame("config", lambda f: f["config"]["call_message"].startswith("Hoy"))
    assert frame["config"] == {"groups": False, "reject_calls": True,
                               "call_message": "Hoy no atiendo llamadas; escríbeme y te respondo al tiro"}


async def test_a_flow_left_unanswered_times_out_and_keeps_nothing(store, tmp_path, monkeypatch):
    monkeypatch.setattr("bot.flows.FLOW_TIMEOUT", 1.0)  # 10 minutes in production
    rig = await BotRig(store, tmp_path / "data").start()
    try:
        await rig.say("/newtenant")
        await rig.say("Panadería Sol")
        gone = await rig.wait_for(lambda m: "sin respuesta" in (m.body or ""), timeout=10)
        assert "Pasaron 10 minutos sin respuesta" in gone.body
        assert "No estoy esperando nada" in (await rig.say("panaderia-sol")).body
        assert (await rig.tenants.page(0))[1] == 0
    finally:
        await rig.stop()


async def test_settings_switch_the_assistants_handoff_and_edit_its_text(rig):
    await rig.add_tenant("tienda-sol")
    panel = await rig.say("/settings tienda-sol")
    assert "✅ El asistente puede pasar a una persona" in panel.button_texts  # on by default
    assert "❌ Avisarme de esos traspasos" in panel.button_texts  # off by default
    await rig.tap(panel, "✅ El asistente puede pasar a una persona")
    await rig.tap(panel, "❌ Avisarme de esos traspasos")
    assert "❌ El asistente puede pasar a una persona" in panel.button_texts
    assert "✅ Avisarme de esos traspasos" in panel.button_texts
    question = await rig.tap(panel, "✏️ Texto al pasar a una persona: Te comunico con una pers…")
    assert "Te comunico con una persona del equipo. Te responderán pronto." in question.body
    assert "1 a 1.000" in (await rig.say("x" * 1001)).body
    await rig.say("Ya te atiende alguien del local 🙌")
    await rig.wait_for(lambda m: "✏️ Texto al pasar a una persona: Ya te atiende alguien de…" in m.button_texts)
    settings = (await rig.tenants.get("tienda-sol")).settings
    assert (settings.ai_handoff, settings.notify_operator_on_handoff, settings.handoff_text) == (
        False, True, "Ya te atiende alguien del local 🙌")


async def test_settings_switch_the_owners_weekly_summary(rig):
    await rig.add_tenant("tienda-sol")
    panel = await rig.say("/settings tienda-sol")
    assert "❌ Resumen semanal al dueño (lunes)" in panel.button_texts  # off by default
    await rig.tap(panel, "❌ Resumen semanal al dueño (lunes)")
    assert "✅ Resumen semanal al dueño (lunes)" in panel.button_texts
    assert (await rig.tenants.get("tienda-sol")).settings.weekly_summary is True
    english = await rig.say("/settings tienda-sol", lang="en")
    await rig.tap(english, "✅ Weekly summary to the owner (Mondays)")
    assert "❌ Weekly summary to the owner (Mondays)" in english.button_texts
    assert (await rig.tenants.get("tienda-sol")).settings.weekly_summary is False
