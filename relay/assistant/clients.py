"""One AsyncOpenAI client per tenant key, reused across turns, replaced when the key changes.

The clients send through aiohttp (the SDK's `DefaultAioHttpClient`, `openai[aiohttp]`)
rather than its default httpx2/httpcore2 stack: per turn that is about a fifth less relay
CPU (bench/README.md, section 0), and aiohttp is the relay's own HTTP library already.
All tenants' clients share that one HTTP client: one pool of connections, one TLS context
(building one costs ~20 ms). They serve every call but one: each turn's `POST /responses`
goes past the SDK (`self.responses`, relay/assistant/responses_api.py).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import httpx2
import openai

from relay.assistant.responses_api import ResponsesApi

log = logging.getLogger("relay.assistant.clients")


class AioHttpClient(openai.DefaultAioHttpClient):
    """The SDK's aiohttp-backed HTTP client, raising what its default transport raises.

    The vendored adapter maps every aiohttp connection error (a refused connection, the
    server hanging up) to httpx2.ConnectTimeout, which the SDK turns into APITimeoutError:
    the operator would read "did not answer in time" for "could not be reached". Here only
    real timeouts stay timeouts; the rest become the httpx2 errors the default transport
    raises (ConnectError, RemoteProtocolError, ReadError), so the SDK's APIConnectionError
    and our classification (relay/assistant/errors.py) are what they were.
    """

    async def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        try:
            return await super().send(request, **kwargs)
        except httpx2.ConnectTimeout as exc:
            cause = exc.__cause__
            if cause is None or isinstance(cause, (TimeoutError, aiohttp.ServerTimeoutError)):
                raise
            raise _connection_error(cause, request) from cause


def _connection_error(cause: BaseException, request: httpx2.Request) -> httpx2.TransportError:
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx2.ConnectError(str(cause), request=request)
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx2.RemoteProtocolError(str(cause), request=request)
    return httpx2.ReadError(str(cause), request=request)


class OpenAIClients:
    """Caches clients by tenant; a different key for a tenant replaces its client.

    Every tenant's client sends through one shared HTTP client, so one pool of connections
    to OpenAI serves all tenants: the key travels in each request's Authorization header,
    never in the connection, and a quiet tenant's message reuses a connection another kept
    warm instead of paying a TCP and TLS handshake (per tenant, a pool would have gone cold
    between two messages a minute apart: aiohttp keeps an idle connection 15 s).

    The SDK's own retries are off (max_retries=0): it retries every 429, including
    insufficient_quota, so the assistant runs its own bounded retry loop instead.
    """

    def __init__(self, base_url: str | None = None, *, timeout: float = 60.0, connect_timeout: float = 10.0) -> None:
        self._base_url = base_url
        self._timeout = openai.Timeout(timeout, connect=connect_timeout)
        self._clients: dict[str, openai.AsyncOpenAI] = {}
        self._http: AioHttpClient | None = None
        # Every turn's Responses call, sent past the SDK (relay/assistant/responses_api.py).
        self.responses = ResponsesApi(timeout=timeout, connect_timeout=connect_timeout)

    def get(self, slug: str, key: str) -> openai.AsyncOpenAI:
        """The client for this tenant and key (created on first use)."""
        cached = self._clients.get(slug)
        if cached is not None and cached.api_key == key:
            return cached
        if self._http is None:
            self._http = AioHttpClient(timeout=self._timeout, verify=self.responses.ssl_context)
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
