"""Is an OpenAI key usable? One cheap authenticated call answers it before we store it."""

from __future__ import annotations

import enum
import logging

import openai
from openai import AsyncOpenAI

log = logging.getLogger("tenants.key_check")

CHECK_TIMEOUT = 10.0


class KeyCheck(enum.StrEnum):
    """The outcome of checking a key against OpenAI."""

    VALID = "valid"
    INVALID = "invalid"
    UNREACHABLE = "unreachable"


async def check_openai_key(key: str, base_url: str | None = None, timeout: float = CHECK_TIMEOUT) -> KeyCheck:
    """List the models with `key`: 401/403 is INVALID, a network or server failure UNREACHABLE."""
    client = AsyncOpenAI(api_key=key, base_url=base_url, timeout=timeout, max_retries=0)
    try:
        await client.models.list()
    except (openai.AuthenticationError, openai.PermissionDeniedError):
        return KeyCheck.INVALID
    except (openai.APIConnectionError, openai.APIStatusError) as exc:
        # Never the key in the log: only what kind of failure it was.
        log.warning("OpenAI key check could not reach OpenAI: %s", type(exc).__name__)
        return KeyCheck.UNREACHABLE
    finally:
        await client.close()
    return KeyCheck.VALID
