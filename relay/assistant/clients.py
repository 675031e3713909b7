"""One AsyncOpenAI client per tenant key, reused across turns, replaced when the key changes.

The clients serve every OpenAI call but one (conversations and their items, files, vector
stores, transcriptions): each turn's `POST /responses` goes past the SDK
(`self.responses`, relay/assistant/responses_api.py), and that is the call that counts for
the relay's CPU. So these use the SDK's own default transport (httpx2), as the SDK is
tested. All tenants' clients share one HTTP client: one pool of connections, one TLS
context (building one costs ~20 ms), and no cookie jar.
"""

from __future__ import annotations

import http.cookiejar
import logging

import httpx2
import openai

from relay.assistant.responses_api import ResponsesApi

log = logging.getLogger("relay.assistant.clients")


def _no_cookies() -> http.cookiejar.CookieJar:
    """A jar that keeps no cookie: one HTTP client serves every tenant, so a cookie set on
    one tenant's answer (OpenAI's edge sets some) must not ride another tenant's request."""
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


class OpenAIClients:
    """Caches clients by tenant; a different key for a tenant replaces its client.

    Every tenant's client sends through one shared HTTP client, so one pool of connections
    to OpenAI serves all tenants: the key travels in each request's Authorization header,
    never in the connection, and a quiet tenant's message reuses a connection another kept
    warm instead of paying a TCP and TLS handshake (per tenant, a pool would have gone cold
    between two messages a minute apart: httpx2 keeps an idle connection 5 s, aiohttp 15 s).

    The SDK's own retries are off (max_retries=0): it retries every 429, including
    insufficient_quota, so the assistant runs its own bounded retry loop instead.
    """

    def __init__(self, base_url: str | None = None, *, timeout: float = 60.0, connect_timeout: float = 10.0) -> None:
        self._base_url = base_url
        self._timeout = openai.Timeout(timeout, connect=connect_timeout)
        self._clients: dict[str, openai.AsyncOpenAI] = {}
        self._http: httpx2.AsyncClient | None = None
        # Every turn's Responses call, sent past the SDK (relay/assistant/responses_api.py).
        self.responses = ResponsesApi(timeout=timeout, connect_timeout=connect_timeout)

    def get(self, slug: str, key: str) -> openai.AsyncOpenAI:
        """The client for this tenant and key (created on first use)."""
        cached = self._clients.get(slug)
        if cached is not None and cached.api_key == key:
            return cached
        if self._http is None:
            self._http = openai.DefaultAsyncHttpxClient(
                timeout=self._timeout, verify=self.responses.ssl_context, cookies=_no_cookies())
        # A replaced client is only dropped: a turn still using it finishes on the shared
        # HTTP client, which closes with the relay.
        client = openai.AsyncOpenAI(
            api_key=key, base_url=self._base_url, timeout=self._timeout, max_retries=0, http_client=self._http,
        )
        self._clients[slug] = client
        return client

    def drop(self, slug: str) -> None:
        """Forget the tenant's client (its key changed or the tenant is gone)."""
        self._clients.pop(slug, None)

    async def close(self) -> None:
        self._clients = {}
        await self.responses.close()
        http, self._http = self._http, None
        if http is not None:
            try:
                await http.aclose()
            except Exception:
                log.debug("closing the OpenAI HTTP client failed", exc_info=True)
