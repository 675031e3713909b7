"""The landing page in a real headless Chromium: what a client on a phone sees and does."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.browser import PHONE, CspWatch, chromium, screenshot, scroll_width


@pytest.fixture
async def browser():
    async with chromium() as running:
        yield running


@pytest.fixture
async def phone_page(browser):
    context = await browser.new_context(viewport=PHONE, locale="es-CL", device_scale_factor=2,
                                        extra_http_headers={"Accept-Language": "es-CL,es;q=0.9"})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    watch = CspWatch(page)
    yield page
    await context.close()
    assert watch.problems == [], watch.problems  # no CSP violation, no script error


async def test_qr_page_updates_itself_to_a_new_qr_and_then_to_connected(rig, phone_page):
    page = phone_page
    tenant = await rig.new_tenant(description="Panes, pasteles y tortas por encargo en Ñuñoa.")
    bridge = await rig.bridge_for(tenant, state="waiting_qr")
    await bridge.send_qr("2@first-qr,payload==")
    await rig.wait_state(tenant, lambda s: s.qr)

    await page.goto(rig.page_url(tenant))
    qr = page.locator("#qr svg")
    await expect(qr).to_be_visible()
    box = await qr.bounding_box()
    assert box["width"] >= 280, "the QR must be large enough to scan from a phone"
    assert await scroll_width(page) <= 360
    await screenshot(page, "landing-waiting-qr-360")
    await page.evaluate("window.__notReloaded = true")
    first = await qr.inner_html()
    await _wait_for_stream(rig, tenant)

    await bridge.send_qr("2@second-qr,another-payload==")
    await page.wait_for_function("(first) => document.querySelector('#qr svg').innerHTML !== first", arg=first)

    await bridge.send_status("connected", phone="56912342222")
    await expect(page.locator(".state-words")).to_have_text("Conectado: tu asistente está respondiendo")
    await expect(page.locator(".phone")).to_have_text("+56 9 ••••• 2222")
    assert await page.evaluate("window.__notReloaded === true"), "the page reloaded instead of updating"
    assert await scroll_width(page) <= 360
    await screenshot(page, "landing-connected-360")


async def test_pairing_form_shows_the_code_to_type_on_the_phone(rig, phone_page):
    page = phone_page
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="waiting_qr", pairing_code="K7Q2M9XZ")
    await bridge.send_qr("2@qr")
    await rig.wait_state(tenant, lambda s: s.qr)
    await page.goto(rig.page_url(tenant))

    await page.get_by_text("Vincular con número de teléfono en su lugar").click()
    await page.get_by_label("Tu número de WhatsApp, con código de país").fill("+56 9 123")
    await page.get_by_role("button", name="Obtener código").click()
    await expect(page.locator("#pair-error")).to_contain_text("Ese número no es válido.")
    assert await scroll_width(page) <= 360
    await screenshot(page, "landing-pairing-bad-number-360")
    assert bridge.pairs == []

    await page.get_by_label("Tu número de WhatsApp, con código de país").fill("+56 9 1234 5678")
    await page.get_by_role("button", name="Obtener código").click()
    await expect(page.locator("#pairing-code")).to_have_text("K7Q2-M9XZ")
    assert bridge.pairs[-1]["phone"] == "56912345678"
    assert await scroll_width(page) <= 360
    await screenshot(page, "landing-pairing-code-360")


async def test_logged_out_page_gets_a_new_qr_with_one_tap(rig, phone_page):
    page = phone_page
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="logged_out")
    await rig.wait_state(tenant, lambda s: s.state == "logged_out")
    await page.goto(rig.page_url(tenant))
    assert await scroll_width(page) <= 360
    await screenshot(page, "landing-logged-out-360")

    await page.get_by_role("button", name="Obtener un nuevo código QR").click()
    await rig.wait_state(tenant, lambda s: s.state == "waiting_qr")
    await _wait_for_stream(rig, tenant)
    await bridge.send_qr("2@fresh")

    await expect(page.locator("#qr svg")).to_be_visible()
    assert bridge.logouts == 1


@pytest.mark.parametrize("state", ["banned", "disabled", "stopped", "reconnecting"])
async def test_other_states_read_well_on_a_phone(rig, phone_page, state):
    page = phone_page
    tenant = await rig.new_tenant(name="Ferretería y Materiales de Construcción Los Aromos Limitada")
    if state == "disabled":
        await rig.tenants.set_enabled(tenant.slug, False, "test")
    elif state != "stopped":
        await rig.bridge_for(tenant, state=state)
        await rig.wait_state(tenant, lambda s: s.state == state)

    await page.goto(rig.page_url(tenant))

    await expect(page.locator("h1")).to_have_text("Ferretería y Materiales de Construcción Los Aromos Limitada")
    assert await scroll_width(page) <= 360
    await screenshot(page, f"landing-{state}-360")


async def test_desktop_and_not_found_pages(rig, browser):
    tenant = await rig.new_tenant(description="Panes, pasteles y tortas por encargo.")
    bridge = await rig.bridge_for(tenant, state="waiting_qr")
    await bridge.send_qr("2@desktop")
    await rig.wait_state(tenant, lambda s: s.qr)
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                        extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    page = await context.new_page()

    await page.goto(rig.page_url(tenant))
    await expect(page.locator(".state-words")).to_have_text("Waiting for you to scan the QR code")
    await screenshot(page, "landing-waiting-qr-desktop-en")

    response = await page.goto(f"{rig.url}/c/not-a-real-token")
    assert response.status == 404
    await expect(page.locator("h1")).to_have_text("Page not found")
    await screenshot(page, "landing-not-found-desktop-en")
    await context.close()


async def _wait_for_stream(rig, tenant) -> None:
    """Wait until the open page's live-update stream is registered with the relay."""
    import asyncio

    for _ in range(500):
        if rig.pages.live.count(tenant.slug) >= 1:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the page never opened its live-update stream")


async def test_without_javascript_the_page_still_shows_the_qr_and_refreshes_itself(rig, browser):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="waiting_qr")
    await bridge.send_qr("2@no-script")
    await rig.wait_state(tenant, lambda s: s.qr)
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False, locale="es-CL",
                                        extra_http_headers={"Accept-Language": "es-CL,es;q=0.9"})
    page = await context.new_page()
    page.set_default_timeout(10_000)

    await page.goto(rig.page_url(tenant))

    await expect(page.locator("#qr svg")).to_be_visible()
    refresh = page.locator('meta[http-equiv="refresh"]')
    assert await refresh.get_attribute("content") == f"15; url=/c/{tenant.landing_token}"
    await page.get_by_text("Vincular con número de teléfono en su lugar").click()  # <details> needs no script
    await expect(page.get_by_role("button", name="Obtener código")).to_be_visible()
    assert rig.pages.live.count(tenant.slug) == 0  # no script, no stream
    await context.close()
