"""The landing page's defences: 404s that tell nothing, rate limits, headers, no secrets."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from tests.support.web import TENANT_KEY, fetch, form_token, post_form, read_sse_event

BAD_TOKENS = ["A" * 32, "short", "x" * 300, "%3Cscript%3E", "ñandú" * 7, "....", "a b c"]


async def test_unknown_and_malformed_tokens_get_the_same_plain_404_after_the_same_lookup(rig, http, monkeypatch):
    lookups = []
    real_lookup = rig.tenants.by_landing_token

    async def counting_lookup(token):
        lookups.append(token)
        return await real_lookup(token)

    monkeypatch.setattr(rig.tenants, "by_landing_token", counting_lookup)
    bodies = set()
    for token in BAD_TOKENS + ["A" * 32 + "/extra/path"]:
        status, body, headers = await fetch(http, f"{rig.url}/c/{token}")
        assert status == 404, token
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        bodies.add(body)
    assert len(bodies) == 1
    assert "Este enlace no existe o ya no es válido." in bodies.pop()
    assert len(lookups) == len(BAD_TOKENS) + 1  # one store lookup each, malformed or not


async def test_a_known_token_differing_in_one_character_is_refused(rig, http):
    tenant = await rig.new_tenant()
    token = tenant.landing_token
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")

    status, _, _ = await fetch(http, f"{rig.url}/c/{wrong}")

    assert status == 404


async def test_repeated_misses_from_one_address_are_refused_for_ten_minutes(rig, http):
    tenant = await rig.new_tenant()
    for n in range(20):
        status, _, _ = await fetch(http, f"{rig.url}/c/guess{n:027d}")
        assert status == 404

    status, body, headers = await fetch(http, f"{rig.url}/c/guess-number-21-aaaaaaaaaaaaaaa")
    assert status == 429 and "Hiciste demasiadas solicitudes." in body and headers["Retry-After"] == "600"
    status, _, _ = await fetch(http, rig.page_url(tenant))
    assert status == 429  # a hit must not look different from a miss while refused

    rig.clock.advance(minutes=10, seconds=1)
    status, _, _ = await fetch(http, rig.page_url(tenant))
    assert status == 200


async def test_behind_a_trusted_proxy_each_client_is_limited_on_its_own(rig, http):
    rig.settings.trusted_proxies = (ip_network("127.0.0.0/8"),)  # the proxy runs on loopback
    tenant = await rig.new_tenant()
    attacker = {"X-Forwarded-For": "203.0.113.5"}
    for n in range(20):
        assert (await fetch(http, f"{rig.url}/c/guess{n:027d}", headers=attacker))[0] == 404
    assert (await fetch(http, f"{rig.url}/c/guess{21:027d}", headers=attacker))[0] == 429
    client = {"X-Forwarded-For": "198.51.100.7, 203.0.113.5"}  # spoofed first hop; the proxy appended the real one
    assert (await fetch(http, rig.page_url(tenant), headers=client))[0] == 429
    honest = {"X-Forwarded-For": "198.51.100.8"}
    assert (await fetch(http, rig.page_url(tenant), headers=honest))[0] == 200


async def test_without_trusted_proxies_a_forwarded_header_does_not_dodge_the_limit(rig, http):
    for n in range(20):
        await fetch(http, f"{rig.url}/c/guess{n:027d}", headers={"X-Forwarded-For": f"203.0.113.{n}"})
    status, _, _ = await fetch(http, f"{rig.url}/c/guess{21:027d}", headers={"X-Forwarded-For": "198.51.100.9"})
    assert status == 429


async def test_every_response_carries_the_security_headers(rig, http):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="logged_out")
    await rig.wait_state(tenant, lambda s: s.state == "logged_out")
    _, page, _ = await fetch(http, rig.page_url(tenant))
    responses = [
        await fetch(http, rig.page_url(tenant)),
        await fetch(http, f"{rig.url}/c/{'Z' * 32}"),
        await fetch(http, f"{rig.url}/static/app.css"),
        await fetch(http, f"{rig.url}/healthz"),
        await fetch(http, f"{rig.url}/no/such/page"),
        await post_form(http, f"{rig.page_url(tenant)}/qr", {"form_token": form_token(page)}),
    ]
    async with http.get(f"{rig.page_url(tenant)}/events") as stream:
        responses.append((stream.status, "", stream.headers))
    assert bridge.logouts == 1

    for status, _, headers in responses:
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, status
        assert "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    token_pages = [responses[0], responses[1], responses[5], responses[6]]
    assert all(headers["Cache-Control"] == "no-store" for _, _, headers in token_pages)


async def test_no_response_reveals_the_key_the_bridge_token_the_instructions_or_another_tenant(rig, http):
    secret_instructions = "INSTRUCCIONES-SECRETAS: nunca reveles el margen del 42%."
    other = await rig.new_tenant(name="Ferretería Vecina", slug="ferreteria", description="Tornillos al por mayor")
    tenant = await rig.new_tenant(description="Panes artesanales")
    await rig.tenants.set_instructions(tenant.slug, secret_instructions, "test")
    tenant = (await rig.tenants.get(tenant.slug)).with_changes(landing_token=tenant.landing_token)
    bridge = await rig.bridge_for(tenant, state="waiting_qr")
    await bridge.send_qr("2@qr-payload")
    await rig.wait_state(tenant, lambda s: s.qr)
    url = rig.page_url(tenant)
    seen = [await fetch(http, url), await fetch(http, url, headers={"Accept-Language": "en"})]
    token = form_token(seen[0][1])
    seen.append(await post_form(http, f"{url}/pair", {"form_token": token, "phone": "12"}))
    seen.append(await post_form(http, f"{url}/pair", {"form_token": token, "phone": "+56 9 1234 5678"}))
    async with http.get(f"{url}/events?seen=stale") as stream:
        seen.append((stream.status, await read_sse_event(stream, "panel"), stream.headers))
    await bridge.send_status("connected", phone="56912345678")
    await rig.wait_state(tenant, lambda s: s.state == "connected")
    seen.append(await fetch(http, url))
    seen.append(await fetch(http, f"{rig.url}/metrics"))

    secrets = [TENANT_KEY, rig.bridge_token, secret_instructions, "margen del 42", "Ferretería", "Tornillos",
               other.landing_token, tenant.openai_key_encrypted, rig.settings.public_url + "/c/" + other.landing_token]
    for status, body, headers in seen:
        text = body + "".join(f"{k}: {v}\n" for k, v in headers.items())
        for secret in secrets:
            assert secret not in text, (status, secret)
    assert "Panes artesanales" in seen[0][1]


async def test_a_bad_phone_number_gets_a_clear_message_and_nothing_reaches_the_bridge(rig, http):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="waiting_qr")
    await rig.wait_state(tenant, lambda s: s.state == "waiting_qr")
    _, page, _ = await fetch(http, rig.page_url(tenant))

    for typed in ["12345", "+56 9 abc", "1234567890123456", "", "<b>56912345678</b>"]:
        status, body, _ = await post_form(
            http, f"{rig.page_url(tenant)}/pair", {"form_token": form_token(page), "phone": typed}
        )
        assert status == 400, typed
        assert "Ese número no es válido." in body and "<details class=\"pair\" open>" in body
    assert bridge.pairs == []


async def test_pairing_with_a_phone_number_shows_the_code_to_type(rig, http):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="waiting_qr", pairing_code="K7Q2M9XZ")
    await rig.wait_state(tenant, lambda s: s.state == "waiting_qr")
    _, page, _ = await fetch(http, rig.page_url(tenant))

    status, body, _ = await post_form(
        http, f"{rig.page_url(tenant)}/pair", {"form_token": form_token(page), "phone": "+56 9 1234 5678"}
    )

    assert status == 200
    assert '<p class="pairing-code" id="pairing-code">K7Q2-M9XZ</p>' in body
    assert "Vincular con el número de teléfono" in body
    assert bridge.pairs[0]["phone"] == "56912345678"


async def test_pairing_requests_are_limited_per_tenant(rig, http):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="waiting_qr")
    await rig.wait_state(tenant, lambda s: s.state == "waiting_qr")
    _, page, _ = await fetch(http, rig.page_url(tenant))
    form = {"form_token": form_token(page), "phone": "+56912345678"}
    for _ in range(5):
        status, _, _ = await post_form(http, f"{rig.page_url(tenant)}/pair", form)
        assert status == 200

    status, body, _ = await post_form(http, f"{rig.page_url(tenant)}/pair", form)

    assert status == 429 and "Demasiados intentos." in body
    assert len(bridge.pairs) == 5


@pytest.mark.parametrize(
    "headers, data",
    [
        ({}, {}),
        ({}, {"form_token": "0" * 64}),
        ({"Origin": "https://evil.example"}, None),
        ({"Sec-Fetch-Site": "cross-site"}, None),
    ],
    ids=["no-token", "wrong-token", "foreign-origin", "cross-site"],
)
async def test_forms_posted_from_elsewhere_are_refused_and_change_nothing(rig, http, headers, data):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="logged_out")
    await rig.wait_state(tenant, lambda s: s.state == "logged_out")
    _, page, _ = await fetch(http, rig.page_url(tenant))
    fields = data if data is not None else {"form_token": form_token(page)}

    status, body, _ = await post_form(http, f"{rig.page_url(tenant)}/qr", fields, headers=headers)

    assert status == 403 and "El formulario caducó." in body
    assert bridge.logouts == 0


async def test_a_form_posted_by_the_page_itself_with_origin_null_is_accepted(rig, http):
    tenant = await rig.new_tenant()
    bridge = await rig.bridge_for(tenant, state="logged_out")
    await rig.wait_state(tenant, lambda s: s.state == "logged_out")
    _, page, _ = await fetch(http, rig.page_url(tenant))

    status, _, _ = await post_form(
        http, f"{rig.page_url(tenant)}/qr", {"form_token": form_token(page)},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )

    assert status == 303 and bridge.logouts == 1


async def test_new_qr_requests_are_limited_per_tenant(rig, http):
    tenant = await rig.new_tenant()
    _, page, _ = await fetch(http, rig.page_url(tenant))
    form = {"form_token": form_token(page)}
    for _ in range(5):
        status, _, _ = await post_form(http, f"{rig.page_url(tenant)}/qr", form)
        assert status == 503  # no bridge is running anywhere in this test

    status, body, _ = await post_form(http, f"{rig.page_url(tenant)}/qr", form)

    assert status == 429 and "Demasiadas solicitudes." in body
