"""One AsyncOpenAI client per tenant key, reused across turns, replaced when the key changes."""

from __future__ import annotations

import hashlib
import logging

import openai

log = logging.getLogger("relay.assistant.clients")


def key_fingerprint(key: str) -> str:
    """A short hash of a key: safe to keep as a cache key, never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class OpenAIClients:
    """Caches clients by tenant; a different key for a tenant replaces its client.

    The SDK's own retries are off (max_retries=0): it retries every 429, including
    insufficient_quota, so the assistant runs its own bounded retry loop instead.
    """

    def __init__(self, base_url: str | None = None, *, timeout: float = 60.0, connect_timeout: float = 10.0) -> None:
        self._base_url = base_url
        self._timeout = openai.Timeout(timeout, connect=connect_timeout)
        self._clients: dict[str, tuple[str, openai.AsyncOpenAI]] = {}

    def get(self, slug: str, key: str) -> openai.AsyncOpenAI:
        """The client for this tenant and key (created on first use)."""
        fingerprint = key_fingerprint(key)
        cached = self._clients.get(slug)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        if cached is not None:
            self._retire(cached[1])
        client = openai.AsyncOpenAI(api_key=key, base_url=self._base_url, timeout=self._timeout, max_retries=0)
        self._clients[slug] = (fingerprint, client)
        return client

    def drop(self, slug: str) -> None:
        """Forget the tenant's client (its key changed or the tenant is gone)."""
        cached = self._clients.pop(slug, None)
        if cached is not None:
            self._retire(cached[1])

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for _, client in clients:
            try:
                await client.close()
            except Exception:
                log.debug("closing an OpenAI client failed", exc_info=True)

    def _retire(self, client: openai.AsyncOpenAI) -> None:
        # A turn may still be using it; closing would break that turn, so let it be collected.
        del client
