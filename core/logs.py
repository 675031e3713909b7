"""Logging set-up: text or JSON lines, hierarchical loggers, secrets scrubbed."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# Anything shaped like an OpenAI key, a Telegram bot token or a bearer token is cut from
# every log line, whatever logged it (our code, a library, a bridge's stderr).
_SECRET_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\b\d{6,12}:[A-Za-z0-9_\-]{30,}\b"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(r"(?i)(bot)\d{6,12}:[A-Za-z0-9_\-]{30,}"),
]
# The user info of a URL (`mongodb://admin:pw@host`): a URL is masked wherever it is printed.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s?#'\"]+@")
_extra_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Scrub this exact value from every log line from now on (tokens, passwords)."""
    if value and len(value) >= 6:
        _extra_secrets.add(value)


def mask_url(text: str) -> str:
    """`text` with the user info of every URL in it replaced: `mongodb://***@host/`."""
    return _URL_USERINFO.sub(lambda m: m.group(1) + "***@", text)


def scrub(text: str) -> str:
    """The text with anything secret-shaped replaced by ***."""
    text = mask_url(text)
    for value in _extra_secrets:
        if value in text:
            text = text.replace(value, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


class _ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            body["error"] = self.formatException(record.exc_info)
        return scrub(json.dumps(body, ensure_ascii=False))


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    """Configure the root logger once for the whole process."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(_ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "telegram.ext", "apscheduler", "aiohttp.access", "openai", "pymongo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
