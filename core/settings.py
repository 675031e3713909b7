"""Puente's configuration: environment variables, also read from `.env`."""

from __future__ import annotations

import re
import zoneinfo
from datetime import time
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.logs import mask_url


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    """Every setting Puente reads, with its default."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str | None = None
    telegram_admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    telegram_api_url: str = "https://api.telegram.org"
    mongodb_uri: str | None = None
    mongodb_db: str = "puente"
    data_dir: Path = Path("./data")
    # The embedded store (no MONGODB_URI): SQLite in-process; `mongoeco` is the former one,
    # kept for comparison benchmarks only. `full` syncs every commit to disk (see README).
    embedded_store: Literal["sqlite", "mongoeco"] = "sqlite"
    sqlite_synchronous: Literal["normal", "full"] = "normal"
    secret_key: str | None = None
    public_url: str = "http://localhost:8080"
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535)
    ops_host: str = "127.0.0.1"
    ops_port: int = Field(default=9464, ge=0, le=65535)
    landing_streams_max: int = Field(default=1000, ge=1)
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = ()
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    # V8 tuned for a small, mostly idle process: about 30 MB less per bridge (bench/README.md).
    bridge_command: str = "node --max-semi-space-size=1 --optimize-for-size --single-threaded bridge_node/src/main.mjs"
    bridge_env_allow: Annotated[tuple[str, ...], NoDecode] = ()
    openai_base_url: str | None = None
    openai_default_model: str = "gpt-4.1-mini"
    openai_transcription_model: str = "gpt-4o-mini-transcribe"
    # A tenant's time zone when the operator's /hours names none (an IANA name).
    default_timezone: str = "UTC"
    # When the operators' daily digest goes out (HH:MM in DEFAULT_TIMEZONE); empty: never.
    digest_time: str = "08:00"
    # A JSON file of OpenAI prices over the ones shipped (relay/usage/prices.py).
    prices_file: Path | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"

    @field_validator("telegram_admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(re.fullmatch(r"-?\d+", p) for p in parts):
                raise ValueError("must be comma-separated numeric Telegram user ids, e.g. 12345,67890")
            return tuple(int(p) for p in parts)
        return value

    @field_validator("bridge_env_allow", mode="before")
    @classmethod
    def _parse_names(cls, value: object) -> object:
        if isinstance(value, str):
            names = tuple(p.strip() for p in value.split(",") if p.strip())
            if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) for name in names):
                raise ValueError("must be comma-separated environment variable names, e.g. HTTPS_PROXY,NO_PROXY")
            return names
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return tuple(ip_network(p.strip(), strict=False) for p in value.split(",") if p.strip())
            except ValueError:
                raise ValueError("must be comma-separated IP addresses or networks, e.g. 127.0.0.1,10.0.0.0/8") from None
        return value

    @field_validator("default_timezone", mode="after")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value.strip())
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone name, e.g. America/Santiago") from None
        return value.strip()

    @field_validator("digest_time", mode="after")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be a time of day as HH:MM, e.g. 08:00, or empty to send no digest")
        return value

    @field_validator("prices_file", mode="before")
    @classmethod
    def _blank_path_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", "log_format", "smtp_security", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("telegram_api_url", "public_url", "openai_base_url", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("mongodb_uri", mode="after")
    @classmethod
    def _mongodb_uri(cls, value: str | None) -> str | None:
        if value and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value or None

    @field_validator("smtp_host", "secret_key", "telegram_bot_token", "smtp_from", mode="after")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @property
    def email_enabled(self) -> bool:
        """Whether invite e-mails can be sent."""
        return self.smtp_host is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value set here, passwords inside URLs included: never to be logged."""
        values = [self.telegram_bot_token, self.smtp_password, self.secret_key]
        for url in (self.mongodb_uri, self.openai_base_url, self.telegram_api_url):
            userinfo = (url or "").partition("://")[2].split("/", 1)[0].rpartition("@")[0]
            values.append(userinfo.partition(":")[2] or userinfo)
        return tuple(value for value in values if value)

    @property
    def digest_at(self) -> time | None:
        """The time of day of the daily digest, in DEFAULT_TIMEZONE; None when it is off."""
        return time.fromisoformat(self.digest_time) if self.digest_time else None

    @property
    def sessions_dir(self) -> Path:
        """Where the bridges keep each tenant's WhatsApp session."""
        return self.data_dir / "sessions"


def load_settings(*, require_telegram: bool = True, **overrides: object) -> Settings:
    """Read the settings; raise ConfigError with one line naming the bad variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        raise ConfigError(f"{name}: {_reason(error)}") from None
    if require_telegram:
        if not settings.telegram_bot_token:
            raise ConfigError("TELEGRAM_BOT_TOKEN: is required (the admin bot's token from @BotFather)")
        if not settings.telegram_admin_ids:
            raise ConfigError("TELEGRAM_ADMIN_IDS: is required (comma-separated numeric Telegram user ids)")
    if settings.smtp_host and not settings.smtp_from:
        raise ConfigError("SMTP_FROM: is required when SMTP_HOST is set (the invite's sender address)")
    return settings


def _reason(error: dict) -> str:
    message = str(error.get("msg", "is malformed"))
    message = message.removeprefix("Value error, ")
    given = error.get("input")
    field = str(error["loc"][0]) if error["loc"] else ""
    if isinstance(given, (str, int)) and field not in _SECRET_FIELDS:
        return f"{message} (got {mask_url(repr(given))})"
    return message


# Their values are never echoed back in an error message.
_SECRET_FIELDS = {"telegram_bot_token", "secret_key", "smtp_password", "smtp_username"}
