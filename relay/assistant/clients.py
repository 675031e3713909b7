"""One AsyncOpenAI client per tenant key, reused across turns, replaced when the key changes.

The clients send through aiohttp (the SDK's `DefaultAioHttpClient`, `openai[aiohttp]`)
rather than its default httpx2/httpcore2 stack: per turn that is about a fifth less relay
CPU (bench/README.md, section 0), and aiohttp is the relay's own HTTP library already.
All clients share one TLS context: building one costs ~20 ms, once per tenant otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
from typing import Any

import aiohttp
import httpx2
import openai

from core.tasks import cancel, spawn

log = logging.getLogger("relay.assistant.clients")


def key_fingerprint(key: str) -> str:
    """A short hash of a key: safe to keep as a cache key, never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


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

    The SDK's own retries are off (max_retries=0): it retries every 429, including
    insufficient_quota, so the assistant runs its own bounded retry loop instead.
    """

    def __init__(self, base_url: str | None = None, *, timeout: float = 60.0, connect_timeout: float = 10.0) -> None:
        self._base_url = base_url
        self._timeout = openai.Timeout(timeout, connect=connect_timeout)
        self._clients: dict[str, tuple[str, openai.AsyncOpenAI]] = {}
        self._tls: ssl.SSLContext | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    def get(self, slug: str, key: str) -> openai.AsyncOpenAI:
        """The client for this tenant and key (created on first use)."""
        fingerprint = key_fingerprint(key)
        cached = self._clients.get(slug)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        if cached is not None:
            self._retire(cached[1])
        if self._tls is None:
            self._tls = httpx2.create_ssl_context()
        client = openai.AsyncOpenAI(
            api_key=key, base_url=self._base_url, timeout=self._timeout, max_retries=0,
            http_client=AioHttpClient(timeout=self._timeout, verify=self._tls),
        )
        self._clients[slug] = (fingerprint, client)
        return client

    def drop(self, slug: str) -> None:
        """Forget the tenant's client (its key changed or the tenant is gone)."""
        cached = self._clients.pop(slug, None)
        if cached is not None:
            self._retire(cached[1])

    async def close(self) -> None:
        await cancel(*self._retiring)
        clients, self._clients = list(self._clients.values()), {}
        for _, client in clients:
            await _close(client)

    def _retire(self, client: openai.AsyncOpenAI) -> None:
        # A turn may still be using it: closed once the longest call it can carry is over.
        task = spawn(self._close_later(client), name="openai-client-retire")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _close_later(self, client: openai.AsyncOpenAI) -> None:
        try:
            await asyncio.sleep((self._timeout.read or 60.0) + (self._timeout.connect or 10.0))
        finally:
            await _close(client)  # on cancellation too: Puente is stopping


async def _close(client: openai.AsyncOpenAI) -> None:
    try:
        await client.close()
    except Exception:
        log.debug("closing an OpenAI client failed", exc_info=True)
