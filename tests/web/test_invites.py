"""The invite e-mail through a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import pytest

from core.settings import Settings
from tenants.invites import SUBJECT, InviteError, InviteMailer, smtp_login_check
from tenants.service import NewTenant
from tests.support.web_mail import PASSWORD, REFUSED_DOMAIN, USERNAME, MailServer, free_port

PUBLIC_URL = "https://puente.example"


def smtp_settings(server: MailServer | None, security: str = "none", **overrides) -> Settings:
    fields = dict(
        smtp_host="127.0.0.1", smtp_port=server.port if server else free_port(), smtp_security=security,
        smtp_from="Puente <invitaciones@puente.example>", public_url=PUBLIC_URL, _env_file=None,
    )
    fields.update(overrides)
    return Settings(**fields)


async def client(tenants, email: str = "dueña@panaderia.example", name: str = "Panadería <Sol> & Hijos"):
    return await tenants.create(NewTenant(slug="panaderia-sol", name=name, openai_key="sk-test-invite-0123456789abcd",
                                          email=email), "test")


async def test_invite_arrives_in_spanish_with_text_and_html_parts_and_the_private_link(tmp_path, tenants):
    tenant = await client(tenants)
    with MailServer(tmp_path) as server:
        await InviteMailer(smtp_settings(server)).send_invite(tenant)

    [message] = server.inbox.messages
    link = f"{PUBLIC_URL}/c/{tenant.landing_token}"
    assert message["Subject"] == SUBJECT == "Conecta tu WhatsApp a tu asistente"
    assert server.inbox.envelopes[0].rcpt_tos == ["dueña@panaderia.example"]
    assert message.is_multipart() and message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    rich = message.get_body(("html",)).get_content()
    assert "Hola, Panadería <Sol> & Hijos:" in plain and link in plain
    assert "Dispositivos vinculados" in plain and "Vincular con número de teléfono" in plain
    assert "Panadería &lt;Sol&gt; &amp; Hijos" in rich and f'href="{link}"' in rich
    assert tenant.instructions not in plain + rich


async def test_invite_over_starttls_with_login_to_a_self_signed_server(tmp_path, tenants):
    tenant = await client(tenants, email="owner@panaderia.example")
    with MailServer(tmp_path, "starttls", require_login=True) as server:
        settings = smtp_settings(server, "starttls", smtp_username=USERNAME, smtp_password=PASSWORD)
        await InviteMailer(settings, tls_context=server.client_tls_context()).send_invite(tenant)

    [message] = server.inbox.messages
    assert tenant.landing_token in message.get_body(("plain",)).get_content()


async def test_invite_over_implicit_tls(tmp_path, tenants):
    tenant = await client(tenants, email="owner@panaderia.example")
    with MailServer(tmp_path, "tls") as server:
        await InviteMailer(smtp_settings(server, "tls"), tls_context=server.client_tls_context()).send_invite(tenant)

    assert len(server.inbox.messages) == 1


async def test_an_untrusted_certificate_is_refused_with_a_clear_sentence(tmp_path, tenants):
    tenant = await client(tenants, email="owner@panaderia.example")
    with MailServer(tmp_path, "starttls") as server:
        with pytest.raises(InviteError) as caught:
            await InviteMailer(smtp_settings(server, "starttls")).send_invite(tenant)

    assert caught.value.reason == "tls_failed"
    assert server.inbox.messages == []


async def test_a_refused_login_is_an_invite_error_without_the_password(tmp_path, tenants):
    tenant = await client(tenants, email="owner@panaderia.example")
    with MailServer(tmp_path, "starttls", require_login=True) as server:
        settings = smtp_settings(server, "starttls", smtp_username=USERNAME, smtp_password="wrong-Pa55word")
        with pytest.raises(InviteError) as caught:
            await InviteMailer(settings, tls_context=server.client_tls_context()).send_invite(tenant)

    error = caught.value
    assert error.reason == "login_refused"
    assert str(error) == "The mail server refused the login: check SMTP_USERNAME and SMTP_PASSWORD."
    assert "rechazó el inicio de sesión" in error.text("es")
    assert "wrong-Pa55word" not in str(error) + error.text("es")
    assert server.inbox.messages == []


async def test_a_refused_recipient_is_named(tmp_path, tenants):
    tenant = await client(tenants, email=f"nadie@{REFUSED_DOMAIN}")
    with MailServer(tmp_path) as server:
        with pytest.raises(InviteError) as caught:
            await InviteMailer(smtp_settings(server)).send_invite(tenant)

    assert caught.value.reason == "recipient_refused"
    assert f"nadie@{REFUSED_DOMAIN}" in str(caught.value)


async def test_a_server_that_is_not_there_is_reported_as_unreachable(tenants):
    tenant = await client(tenants, email="owner@panaderia.example")
    settings = smtp_settings(None)

    with pytest.raises(InviteError) as caught:
        await InviteMailer(settings).send_invite(tenant)

    assert caught.value.reason == "cannot_connect"
    assert str(caught.value) == f"Cannot connect to the mail server 127.0.0.1:{settings.smtp_port}."


async def test_without_an_address_or_without_smtp_nothing_is_attempted(tenants):
    no_email = await tenants.create(NewTenant(slug="sin-correo", name="Sin Correo",
                                              openai_key="sk-test-invite-0123456789abcd"), "test")
    with pytest.raises(InviteError) as caught:
        await InviteMailer(smtp_settings(None)).send_invite(no_email)
    assert caught.value.reason == "no_email"

    with pytest.raises(InviteError) as caught:
        await InviteMailer(Settings(_env_file=None)).send_invite(no_email)
    assert caught.value.reason == "not_configured"


async def test_smtp_login_check_accepts_good_credentials_and_names_bad_ones(tmp_path):
    with MailServer(tmp_path, "starttls", require_login=True) as server:
        good = smtp_settings(server, "starttls", smtp_username=USERNAME, smtp_password=PASSWORD)
        await smtp_login_check(good, tls_context=server.client_tls_context())

        bad = smtp_settings(server, "starttls", smtp_username=USERNAME, smtp_password="nope")
        with pytest.raises(InviteError, match="refused the login"):
            await smtp_login_check(bad, tls_context=server.client_tls_context())
