"""The landing page's words, in Spanish (the default) and English.

The language follows the browser's Accept-Language: English only when the browser
prefers it to Spanish; anything else gets Spanish.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

DEFAULT_LANGUAGE = "es"
SUPPORTED = ("es", "en")

_ES: dict[str, str] = {
    "page_title": "Conecta tu WhatsApp",
    "assistant": "Tu asistente",
    "model": "Modelo",
    "whatsapp": "WhatsApp",
    "state.starting": "Iniciando la conexión…",
    "state.waiting_qr": "Esperando que escanees el código QR",
    "state.pairing": "Esperando que escribas el código en tu teléfono",
    "state.connected": "Conectado: tu asistente está respondiendo",
    "state.reconnecting": "Reconectando con WhatsApp…",
    "state.logged_out": "Desconectado: hay que volver a vincular el teléfono",
    "state.banned": "WhatsApp bloqueó este número",
    "state.stopped": "Detenido",
    "state.disabled": "Servicio desactivado",
    "wait_moment": "Esto tarda unos segundos. La página se actualiza sola.",
    "qr_coming": "Preparando el código QR…",
    "qr_alt": "Código QR para vincular WhatsApp",
    "qr_refreshes": "El código cambia cada pocos segundos; la página muestra siempre el más reciente.",
    "steps_title": "Cómo escanearlo",
    "android": "Android",
    "android_steps": "Abre WhatsApp|Toca ⋮ (Más opciones) y luego «Dispositivos vinculados»|Toca «Vincular un dispositivo»|Apunta la cámara a este código",
    "iphone": "iPhone",
    "iphone_steps": "Abre WhatsApp|Toca «Configuración» y luego «Dispositivos vinculados»|Toca «Vincular un dispositivo»|Apunta la cámara a este código",
    "use_phone": "Vincular con número de teléfono en su lugar",
    "phone_label": "Tu número de WhatsApp, con código de país",
    "phone_hint": "Ejemplo: +56912345678",
    "get_code": "Obtener código",
    "bad_phone": "Ese número no es válido. Escribe el código de país y el número, solo dígitos (8 a 15), por ejemplo +56912345678.",
    "pair_failed": "No pudimos obtener el código ahora. Inténtalo de nuevo en un minuto.",
    "too_many_pairs": "Demasiados intentos. Espera unos minutos y vuelve a intentarlo.",
    "form_expired": "El formulario caducó. Recarga la página e inténtalo de nuevo.",
    "pairing_title": "Tu código de vinculación",
    "pairing_none": "Pide un código con tu número de teléfono para vincular WhatsApp.",
    "pairing_steps": "Abre WhatsApp en tu teléfono|Ve a «Dispositivos vinculados» y toca «Vincular un dispositivo»|Toca «Vincular con el número de teléfono»|Escribe este código",
    "another_code": "¿No funcionó? Pedir otro código",
    "linked_number": "Número vinculado",
    "answered_today": "Mensajes respondidos hoy",
    "paused_chats": "Chats en pausa (atendidos por una persona)",
    "suspended": "Tu asistente está en pausa: no responde hasta que lo vuelvas a activar.",
    "new_qr_intro": "Tu WhatsApp no está vinculado. Pide un código nuevo y escanéalo con tu teléfono.",
    "new_qr": "Obtener un nuevo código QR",
    "qr_failed": "No pudimos iniciar la conexión ahora. Inténtalo de nuevo en un minuto.",
    "too_many_qr": "Demasiadas solicitudes. Espera unos minutos y vuelve a intentarlo.",
    "contact_operator": "Tu servicio no puede conectarse en este momento. Contacta a quien te dio este enlace para resolverlo.",
    "banned_detail": "WhatsApp no permite usar este número con el asistente. Contacta a quien te dio este enlace para resolverlo.",
    "noscript": "Esta página se actualiza cada 15 segundos.",
    "private_link": "Este enlace es privado: no lo compartas.",
    "not_found_title": "Página no encontrada",
    "not_found": "Este enlace no existe o ya no es válido. Pide un enlace nuevo a quien te lo envió.",
    "rate_limited_title": "Demasiados intentos",
    "rate_limited": "Hiciste demasiadas solicitudes. Espera unos minutos y vuelve a intentarlo.",
}

_EN: dict[str, str] = {
    "page_title": "Connect your WhatsApp",
    "assistant": "Your assistant",
    "model": "Model",
    "whatsapp": "WhatsApp",
    "state.starting": "Starting the connection…",
    "state.waiting_qr": "Waiting for you to scan the QR code",
    "state.pairing": "Waiting for you to type the code on your phone",
    "state.connected": "Connected: your assistant is answering",
    "state.reconnecting": "Reconnecting to WhatsApp…",
    "state.logged_out": "Disconnected: the phone has to be linked again",
    "state.banned": "WhatsApp blocked this number",
    "state.stopped": "Stopped",
    "state.disabled": "Service disabled",
    "wait_moment": "This takes a few seconds. The page updates by itself.",
    "qr_coming": "Preparing the QR code…",
    "qr_alt": "QR code to link WhatsApp",
    "qr_refreshes": "The code changes every few seconds; the page always shows the latest one.",
    "steps_title": "How to scan it",
    "android": "Android",
    "android_steps": "Open WhatsApp|Tap ⋮ (More options), then “Linked devices”|Tap “Link a device”|Point the camera at this code",
    "iphone": "iPhone",
    "iphone_steps": "Open WhatsApp|Tap “Settings”, then “Linked devices”|Tap “Link a device”|Point the camera at this code",
    "use_phone": "Link with phone number instead",
    "phone_label": "Your WhatsApp number, with country code",
    "phone_hint": "Example: +56912345678",
    "get_code": "Get code",
    "bad_phone": "That number is not valid. Type the country code and the number, digits only (8 to 15), for example +56912345678.",
    "pair_failed": "We could not get the code right now. Try again in a minute.",
    "too_many_pairs": "Too many attempts. Wait a few minutes and try again.",
    "form_expired": "The form expired. Reload the page and try again.",
    "pairing_title": "Your linking code",
    "pairing_none": "Ask for a code with your phone number to link WhatsApp.",
    "pairing_steps": "Open WhatsApp on your phone|Go to “Linked devices” and tap “Link a device”|Tap “Link with phone number instead”|Type this code",
    "another_code": "Did it not work? Get another code",
    "linked_number": "Linked number",
    "answered_today": "Messages answered today",
    "paused_chats": "Paused chats (handled by a person)",
    "suspended": "Your assistant is paused: it does not answer until you turn it back on.",
    "new_qr_intro": "Your WhatsApp is not linked. Ask for a new code and scan it with your phone.",
    "new_qr": "Get a new QR code",
    "qr_failed": "We could not start the connection right now. Try again in a minute.",
    "too_many_qr": "Too many requests. Wait a few minutes and try again.",
    "contact_operator": "Your service cannot connect right now. Contact whoever gave you this link to sort it out.",
    "banned_detail": "WhatsApp does not allow this number to be used with the assistant. Contact whoever gave you this link to sort it out.",
    "noscript": "This page refreshes every 15 seconds.",
    "private_link": "This link is private: do not share it.",
    "not_found_title": "Page not found",
    "not_found": "This link does not exist or is no longer valid. Ask whoever sent it for a new one.",
    "rate_limited_title": "Too many attempts",
    "rate_limited": "You made too many requests. Wait a few minutes and try again.",
}

assert _ES.keys() == _EN.keys(), "every text needs both languages"

TEXTS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"es": MappingProxyType(_ES), "en": MappingProxyType(_EN)}
)


def pick_language(accept_language: str | None) -> str:
    """"es" or "en": the supported language the browser ranks highest (first listed on ties)."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in SUPPORTED:
            continue
        q = _quality(params)
        if q > best_q:
            best, best_q = primary, q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def texts(language: str) -> Mapping[str, str]:
    """Every text of the page in `language` (Spanish when unknown)."""
    return TEXTS.get(language, TEXTS[DEFAULT_LANGUAGE])


def steps(language: str, key: str) -> list[str]:
    """A numbered list of steps, kept as one "|"-separated text."""
    return texts(language)[key].split("|")
