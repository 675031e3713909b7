"""The invite e-mail: tells a client where to link their WhatsApp (SMTP via aiosmtplib).

Every failure becomes an InviteError with one sentence that names what went wrong
(the login, the connection, the recipient) and never a password or server transcript.
"""

from __future__ import annotations

import html
import logging
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from core.settings import Settings
from tenants.model import Tenant

log = logging.getLogger("tenants.invites")

SUBJECT = "Conecta tu WhatsApp a tu asistente"
SMTP_TIMEOUT = 20.0
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}

# reason -> (English, Spanish); {placeholders} are filled from InviteError.detail.
_MESSAGES: dict[str, tuple[str, str]] = {
    "not_configured": (
        "Invite e-mails are off: SMTP_HOST is not set.",
        "Los correos de invitación están desactivados: falta configurar SMTP_HOST.",
    ),
    "no_email": (
        "This client has no e-mail address; add one first.",
        "Este cliente no tiene correo; agrégalo primero.",
    ),
    "login_refused": (
        "The mail server refused the login: check SMTP_USERNAME and SMTP_PASSWORD.",
        "El servidor de correo rechazó el inicio de sesión: revisa SMTP_USERNAME y SMTP_PASSWORD.",
    ),
    "cannot_connect": (
        "Cannot connect to the mail server {server}.",
        "No se pudo conectar con el servidor de correo {server}.",
    ),
    "timeout": (
        "The mail server {server} did not answer in time.",
        "El servidor de correo {server} no respondió a tiempo.",
    ),
    "tls_failed": (
        "The secure connection to the mail server {server} failed: check SMTP_SECURITY and its certificate.",
        "Falló la conexión segura con el servidor de correo {server}: revisa SMTP_SECURITY y su certificado.",
    ),
    "no_link": (
        "The link is shown only when it is issued: re-issue it to send it.",
        "El enlace solo se conoce al emitirlo: reemítelo para enviarlo.",
    ),
    "recipient_refused": (
        "The mail server refused the recipient address {recipient}.",
        "El servidor de correo rechazó la dirección de destino {recipient}.",
    ),
    "sender_refused": (
        "The mail server refused the sender address {sender} (SMTP_FROM).",
        "El servidor de correo rechazó la dirección de envío {sender} (SMTP_FROM).",
    ),
    "rejected": (
        "The mail server did not accept the message.",
        "El servidor de correo no aceptó el mensaje.",
    ),
}


class InviteError(Exception):
    """An invite could not be sent; `str()` is one English sentence, `text("es")` Spanish."""

    def __init__(self, reason: str, **detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(self.text("en"))

    def text(self, language: str = "es") -> str:
        """The sentence in "es" or "en"."""
        english, spanish = _MESSAGES[self.reason]
        return (english if language == "en" else spanish).format(**self.detail)


def invite_link(settings: Settings, tenant: Tenant) -> str:
    """The client's private landing page, on the tenant returned when its link was issued
    (created or re-issued): only the link's hash is stored, so it cannot be rebuilt later."""
    if not tenant.landing_token:
        raise InviteError("no_link")
    return f"{settings.public_url}/c/{tenant.landing_token}"


def invite_message(settings: Settings, tenant: Tenant) -> EmailMessage:
    """The invite as a multipart (plain text and HTML) message in Spanish."""
    if not tenant.email:
        raise InviteError("no_email")
    link = invite_link(settings, tenant)
    message = EmailMessage()
    message["Subject"] = SUBJECT
    message["From"] = settings.smtp_from or ""
    message["To"] = _recipient(tenant)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=(settings.smtp_from or "puente").rpartition("@")[2] or "puente")
    message.set_content(_plain_body(tenant.name, link))
    message.add_alternative(_html_body(tenant.name, link), subtype="html")
    return message


def _recipient(tenant: Tenant) -> str:
    try:
        return str(Address(display_name=tenant.name, addr_spec=tenant.email or ""))
    except (ValueError, IndexError):  # an unusual address the header model rejects: send it bare
        return tenant.email or ""


def _plain_body(name: str, link: str) -> str:
    return (
        f"Hola, {name}:\n\n"
        "Tu asistente de WhatsApp está listo. Solo falta conectar tu número de WhatsApp.\n\n"
        "Abre este enlace, de preferencia en un computador:\n"
        f"{link}\n\n"
        "Qué hacer allí:\n"
        "1. En tu teléfono, abre WhatsApp y entra a «Dispositivos vinculados».\n"
        "2. Toca «Vincular un dispositivo» y escanea el código QR que muestra la página.\n"
        "   Si abriste el enlace en el mismo teléfono, usa «Vincular con número de teléfono»:\n"
        "   la página te dará un código de 8 caracteres para escribir en WhatsApp.\n"
        "3. Cuando la página diga «Conectado», tu asistente empezará a responder a tus clientes.\n\n"
        "En esa misma página puedes ver, cuando quieras, si tu WhatsApp sigue conectado.\n"
        "El enlace es privado: no lo compartas.\n"
    )


def _html_body(name: str, link: str) -> str:
    name, link = html.escape(name), html.escape(link, quote=True)
    return f"""<!doctype html>
<html lang="es"><body style="margin:0;padding:24px;background:#eef3f1;font-family:Arial,Helvetica,sans-serif;color:#1c2421">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:12px;padding:24px">
<p style="font-size:18px;margin:0 0 16px">Hola, {name}:</p>
<p>Tu asistente de WhatsApp está listo. Solo falta conectar tu número de WhatsApp.</p>
<p style="margin:24px 0"><a href="{link}" style="background:#0b6b4f;color:#ffffff;padding:12px 20px;border-radius:8px;text-decoration:none;font-weight:bold">Conectar mi WhatsApp</a></p>
<p style="font-size:14px">Si el botón no funciona, copia este enlace en tu navegador:<br><a href="{link}">{link}</a></p>
<p><strong>Qué hacer allí</strong> (de preferencia desde un computador):</p>
<ol>
<li>En tu teléfono, abre WhatsApp y entra a «Dispositivos vinculados».</li>
<li>Toca «Vincular un dispositivo» y escanea el código QR que muestra la página. Si abriste el enlace en el mismo teléfono, usa «Vincular con número de teléfono»: la página te dará un código de 8 caracteres para escribir en WhatsApp.</li>
<li>Cuando la página diga «Conectado», tu asistente empezará a responder a tus clientes.</li>
</ol>
<p style="font-size:14px;color:#5b6661">En esa misma página puedes ver, cuando quieras, si tu WhatsApp sigue conectado. El enlace es privado: no lo compartas.</p>
</div></body></html>
"""


class InviteMailer:
    """Sends invite e-mails through the configured SMTP server.

    `tls_context` replaces the default certificate checks; only tests pass one (to
    trust their self-signed certificate).
    """

    def __init__(self, settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._tls_context = tls_context

    async def send_invite(self, tenant: Tenant) -> None:
        """E-mail the tenant their landing link, on the tenant returned when it was issued;
        raise InviteError on any failure."""
        if not self._settings.email_enabled:
            raise InviteError("not_configured")
        message = invite_message(self._settings, tenant)
        try:
            async with _SmtpSession(self._settings, self._tls_context) as smtp:
                await smtp.send_message(message)
        except InviteError:
            raise
        except Exception as exc:
            error = _invite_error(exc, self._settings, tenant.email or "")
            log.warning("invite to %s failed: %s (%s)", tenant.slug, error.reason, type(exc).__name__)
            raise error from None
        log.info("invite sent to %s", tenant.slug)


async def smtp_login_check(settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> None:
    """`puente check`: connect to the SMTP server and log in when a username is set."""
    if not settings.email_enabled:
        raise InviteError("not_configured")
    try:
        async with _SmtpSession(settings, tls_context):
            pass
    except InviteError:
        raise
    except Exception as exc:
        raise _invite_error(exc, settings, "") from None


class _SmtpSession:
    """An SMTP connection, secured as SMTP_SECURITY says and logged in when configured."""

    def __init__(self, settings: Settings, tls_context: ssl.SSLContext | None) -> None:
        security = settings.smtp_security
        self._settings = settings
        self._smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port or DEFAULT_PORTS[security],
            use_tls=security == "tls",
            start_tls=security == "starttls",
            timeout=SMTP_TIMEOUT,
            tls_context=tls_context,
        )

    async def __aenter__(self) -> aiosmtplib.SMTP:
        await self._smtp.connect()
        try:
            if self._settings.smtp_username:
                await self._smtp.login(self._settings.smtp_username, self._settings.smtp_password or "")
        except BaseException:
            self._smtp.close()
            raise
        return self._smtp

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self._smtp.quit()
        except Exception:  # the message is already accepted; a rude goodbye changes nothing
            self._smtp.close()


def _invite_error(exc: BaseException, settings: Settings, recipient: str) -> InviteError:
    """The InviteError for an aiosmtplib or network failure."""
    server = f"{settings.smtp_host}:{settings.smtp_port or DEFAULT_PORTS[settings.smtp_security]}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return InviteError("login_refused")
    if isinstance(exc, (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPRecipientRefused)):
        return InviteError("recipient_refused", recipient=recipient)
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return InviteError("sender_refused", sender=settings.smtp_from or "")
    if _is_tls_failure(exc):
        return InviteError("tls_failed", server=server)
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, TimeoutError)):
        return InviteError("timeout", server=server)
    if isinstance(exc, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError)):
        return InviteError("cannot_connect", server=server)
    return InviteError("rejected")


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "STARTTLS" in str(seen) or "certificate" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
