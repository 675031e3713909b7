"""Sending that must arrive: Telegram's 429 (retry_after) and 5xx are retried, within bounds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

log = logging.getLogger("bot.delivery")

ATTEMPTS = 6
MAX_WAIT = 30.0


async def with_retry[T](call: Callable[[], Awaitable[T]], what: str, *, attempts: int = ATTEMPTS,
                        first_backoff: float = 0.5) -> T | None:
    """Run `call` until it succeeds; None after `attempts` or on a permanent refusal (logged)."""
    backoff = first_backoff
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as exc:
            wait = min(_seconds(exc.retry_after), MAX_WAIT)
            log.warning("%s: Telegram asked to wait %.1f s (attempt %d)", what, wait, attempt)
        except (BadRequest, Forbidden) as exc:
            log.warning("%s: Telegram refused: %s", what, exc.message)
            return None
        except (TimedOut, NetworkError) as exc:
            wait, backoff = backoff, min(backoff * 2, MAX_WAIT)
            log.warning("%s: Telegram failed (%s), retrying in %.1f s (attempt %d)", what, exc, wait, attempt)
        if attempt < attempts:
            await asyncio.sleep(wait)
    log.error("%s: gave up after %d attempts", what, attempts)
    return None


def _seconds(value: object) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
