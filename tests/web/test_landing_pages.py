"""The landing page over real HTTP: what a client sees in each WhatsApp state."""

from __future__ import annotations

import asyncio
import html
import json

import aiohttp

from relay.chats import PauseKind, open_chats
from relay.message_log import MessageStatus, open_message_log
from relay.protocol import Message
from tests.support.web import fetch, form_token, post_form, read_sse_event


async def test_waiting_for_login_shows_the_qr_as_inline_svg_with_steps_for_both_phones(rig, http):
    tenant = await rig.new_tenant(description="Panes y pasteles en Ñuñoa.")
    bridge = await rig.bridge_for(tenant, state="waiting_qr")
    await bridge.send_qr("2@first-qr-payload,abc==")
    await rig.wait_state(tenant, lambda s: s.qr)

    status, body, _ = await fetch(http, rig.page_url(tenant))

    assert status == 200
    assert "Panadería Sol" in body
    assert "Panes y pasteles en Ñuñoa." in body
    assert "gpt-4.1-mini" in body
    assert "Esperando que escanees el código QR" in body
    assert '<div id="qr" class="qr">\n<svg class="qr-svg"' in body
    assert "first-qr-payload" not in body  # drawn into the picture, not copied as text
    assert "Android" in body and "iPhone" in body and "Dispositivos vinculados" in body
    assert "Vincular con número de teléfono en su lugar" in body
    assert '<noscript><meta http-equiv="refresh"' in body
    assert '<script src="/static/app.js" defer></script>' in body


async def test_connected_shows_the_masked_number_answers_today_and_paused_chats(rig, http):
    tenant = await rig.new_tenant()
    await rig.bridge_for(tenant, state="connected", phone="56912342222")
    await rig.wait_state(tenant, lambda s: s.state == "connected")
    chats, log = open_chats(rig.store.db), open_message_log(rig.store.db)
    await chats.pause(tenant.slug, "56911111111@s.whatsapp.net", PauseKind.MANUAL, rig.clock.now())
    await chats.pause(tenant.slug, "56922222222@s.whatsapp.net", PauseKind.HANDOFF, rig.clock.now())
    for n in range(3):
        message = Message(type="message", id=f"M{n}", chat="56933333333@s.whatsapp.net", sender="56933333333@s.whatsapp.net",
                          from_me=False, sent_by_bridge=False, timestamp=0, is_group=False, kind="text", text="hola")
        await log.record(tenant.slug, message, customer=True, now=rig.clock.now())
        await log.settle(tenant.slug, message.chat, [f"M{n}"], MessageStatus.ANSWERED, rig.clock.now())

    status, body, _ = await fetch(http, rig.page_url(tenant))

    assert status == 200
    assert "Conectado: tu asistente está respondiendo" in body
    assert "+56 9 ••••• 2222" in body
    assert "56912342222" not in body
    assert '<dd class="answered">3</dd>' in body
    assert '<dd class="paused">2</dd>' in body


async def test_logged_out_offers_a_new_qr_and_the_button_brings_one(rig, http):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="logged_out")
    await rig.wait_state(tenant, lambda s: s.state == "logged_out")
    _, page, _ = await fetch(http, rig.page_url(tenant))
    assert "Desconectado: hay que volver a vincular el teléfono" in page
    assert "Obtener un nuevo código QR" in page

    status, _, headers = await post_form(
        http, f"{rig.page_url(tenant)}/qr", {"form_token": form_token(page)}
    )

    assert status == 303 and headers["Location"] == f"/c/{tenant.landing_token}?starting=1"
    assert bridge.logouts == 1  # a bridge running elsewhere is asked for a fresh login
    await rig.wait_state(tenant, lambda s: s.state == "waiting_qr")
    await bridge.send_qr("2@after-logout")
    await rig.wait_state(tenant, lambda s: s.qr)
    _, body, _ = await fetch(http, rig.page_url(tenant))
    assert '<svg class="qr-svg"' in body


async def test_stopped_without_a_bridge_says_plainly_that_a_new_qr_could_not_start(rig, http):
    tenant = await rig.new_tenant()
    _, page, _ = await fetch(http, rig.page_url(tenant))
    assert "Detenido" in page

    status, body, _ = await post_form(http, f"{rig.page_url(tenant)}/qr", {"form_token": form_token(page)})

    assert status == 503
    assert "No pudimos iniciar la conexión ahora. Inténtalo de nuevo en un minuto." in body
    assert "bridge" not in body.lower()


async def test_starting_and_reconnecting_say_to_wait(rig, http):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="starting")
    await rig.wait_state(tenant, lambda s: s.state == "starting")
    _, body, _ = await fetch(http, rig.page_url(tenant))
    assert "Iniciando la conexión…" in body and "La página se actualiza sola." in body

    await bridge.send_status("reconnecting")
    await rig.wait_state(tenant, lambda s: s.state == "reconnecting")
    _, body, _ = await fetch(http, rig.page_url(tenant))
    assert "Reconectando con WhatsApp…" in body


async def test_banned_number_is_explained_with_whom_to_contact(rig, http):
    tenant = await rig.new_tenant()
    await rig.bridge_for(tenant, state="banned")
    await rig.wait_state(tenant, lambda s: s.state == "banned")

    _, body, _ = await fetch(http, rig.page_url(tenant))

    assert "WhatsApp bloqueó este número" in body
    assert "Contacta a quien te dio este enlace" in body
    assert "<form" not in body


async def test_disabled_tenant_is_told_to_contact_the_operator(rig, http):
    tenant = await rig.new_tenant()
    await rig.tenants.set_enabled(tenant.slug, False, "test")

    status, body, _ = await fetch(http, rig.page_url(tenant))

    assert status == 200
    assert "Servicio desactivado" in body
    assert "Contacta a quien te dio este enlace para resolverlo." in body
    assert "<form" not in body


async def test_english_speaking_browser_gets_the_page_in_english(rig, http):
    tenant = await rig.new_tenant()
    headers = {"Accept-Language": "en-US,en;q=0.9,es;q=0.5"}

    _, body, response_headers = await fetch(http, rig.page_url(tenant), headers=headers)

    assert '<html lang="en">' in body and "Get a new QR code" in body
    assert response_headers["Content-Language"] == "en"
    _, body, _ = await fetch(http, rig.page_url(tenant), headers={"Accept-Language": "es-CL,es;q=0.9,en;q=0.8"})
    assert '<html lang="es">' in body


async def test_tenant_text_is_escaped(rig, http):
    tenant = await rig.new_tenant(name="<script>alert(1)</script> & Co", description='<img src=x onerror="boom()">')

    _, body, _ = await fetch(http, rig.page_url(tenant))

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in body
    assert "<img src=x" not in body and "&lt;img src=x onerror=" in body


async def test_live_updates_carry_new_qrs_and_state_changes(rig, http):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="waiting_qr")
    await bridge.send_qr("2@one")
    await rig.wait_state(tenant, lambda s: s.qr == "2@one")
    _, page, _ = await fetch(http, rig.page_url(tenant))
    events_url = rig.url + html.unescape(page.split('data-events="')[1].split('"')[0])

    async with http.get(events_url) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        await _wait_for_page_streams(rig, tenant, 1)
        await bridge.send_qr("2@two")
        qr = json.loads(await read_sse_event(stream, "qr"))
        assert qr["svg"].startswith('<svg class="qr-svg"') and "2@two" not in qr["svg"]

        await bridge.send_status("connected", phone="56912342222")
        panel = json.loads(await read_sse_event(stream, "panel"))
        assert panel["state"] == "connected"
        assert "+56 9 ••••• 2222" in panel["html"]


async def test_a_rotated_link_stops_working_and_the_open_page_is_told_to_reload(rig, http):
    tenant = await rig.new_tenant()
    _, page, _ = await fetch(http, rig.page_url(tenant))
    events_url = rig.url + html.unescape(page.split('data-events="')[1].split('"')[0])

    async with http.get(events_url) as stream:
        await _wait_for_page_streams(rig, tenant, 1)
        await rig.tenants.rotate_landing_token(tenant.slug, "test")
        assert await read_sse_event(stream, "reload") == "{}"

    status, _, _ = await fetch(http, rig.page_url(tenant))
    assert status == 404


async def _wait_for_page_streams(rig, tenant, count: int) -> None:
    await rig.bus.drain()
    for _ in range(200):
        if rig.pages.live.count(tenant.slug) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the page never opened its live-update stream")


async def test_static_files_are_served_by_puente_itself(rig, http):
    status, css, headers = await fetch(http, f"{rig.url}/static/app.css")
    assert status == 200 and "text/css" in headers["Content-Type"] and "@media" in css
    status, js, headers = await fetch(http, f"{rig.url}/static/app.js")
    assert status == 200 and "EventSource" in js
    for url in (css, js):
        assert "http://" not in url and "https://" not in url  # no CDN, no external fonts


async def test_stream_of_an_unknown_token_is_a_plain_404(rig, http):
    async with http.get(f"{rig.url}/c/{'A' * 32}/events") as response:
        assert response.status == 404
        assert "text/html" in response.headers["Content-Type"]


async def test_an_open_page_stream_ends_when_the_pages_stop(rig, http):
    tenant = await rig.new_tenant()
    async with http.get(f"{rig.page_url(tenant)}/events?seen=x", timeout=aiohttp.ClientTimeout(total=5)) as stream:
        await read_sse_event(stream, "panel")  # `seen` was stale: the page gets the current panel first
        await rig.pages.stop()
        assert await stream.content.read() == b""  # the server ended the stream
    assert rig.pages.live.count(tenant.slug) == 0
