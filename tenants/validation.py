"""The rules for what an operator or client may type: slugs, e-mails, phones, keys."""

from __future__ import annotations

import re
import unicodedata

from tenants.errors import InvalidInput

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
PHONE_RE = re.compile(r"^\+?\d{8,15}$")
MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def slug(value: str) -> str:
    """A tenant id: lowercase letters, digits and hyphens, 2-32 characters."""
    value = value.strip()
    if len(value) < 2 or len(value) > 32 or not SLUG_RE.fullmatch(value) or "--" in value:
        raise InvalidInput(
            "slug", "a slug is 2-32 lowercase letters, digits or hyphens, like tienda-sol"
        )
    return value


def suggest_slug(name: str) -> str:
    """A slug derived from a display name ("Panadería Sol" -> "panaderia-sol")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    candidate = "-".join(words)[:32].strip("-")
    return candidate if len(candidate) >= 2 else "cliente"


def email(value: str) -> str:
    """A contact e-mail address."""
    value = value.strip()
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        raise InvalidInput("email", "an e-mail address looks like nombre@empresa.cl")
    return value


def phone(value: str) -> str:
    """A phone number with country code: digits with an optional +, 8-15 digits."""
    value = re.sub(r"[\s().-]", "", value.strip())
    if not PHONE_RE.fullmatch(value):
        raise InvalidInput("phone", "a phone number has its country code and 8-15 digits, like +56912345678")
    return value.lstrip("+")


def display_name(value: str) -> str:
    """A tenant's display name: printable text, 1-80 characters."""
    cleaned = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C").strip()
    if not cleaned or len(cleaned) > 80:
        raise InvalidInput("name", "a name is 1-80 characters of text")
    return cleaned


def openai_key(value: str) -> str:
    """The shape of an OpenAI API key (whether it works is checked against OpenAI)."""
    value = value.strip()
    if not re.fullmatch(r"sk-[A-Za-z0-9_\-]{16,300}", value):
        raise InvalidInput("openai_key", "an OpenAI API key starts with sk- and has no spaces")
    return value


def model(value: str) -> str:
    """An OpenAI model name, like gpt-4.1-mini."""
    value = value.strip()
    if not MODEL_RE.fullmatch(value):
        raise InvalidInput("model", "a model name looks like gpt-4.1-mini")
    return value


def instructions(value: str) -> str:
    """The tenant's system prompt: non-empty, at most 20,000 characters."""
    value = value.strip()
    if not value or len(value) > 20_000:
        raise InvalidInput("instructions", "instructions are 1-20,000 characters of text")
    return value


def description(value: str) -> str:
    """The assistant's short description for the client's page: 1-300 characters of text."""
    cleaned = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C").strip()
    if not cleaned or len(cleaned) > 300:
        raise InvalidInput("description", "a description is 1-300 characters of text")
    return cleaned
