"""The one OpenAI call every turn makes, `POST /v1/responses`, sent straight over aiohttp.

Everything else (conversations, their items, files, vector stores, transcriptions) goes
through the official SDK. This call does not: through the SDK (request building, its
httpx2 layers over the aiohttp transport, the response parsed into pydantic models) it cost
1.7 ms of relay CPU per turn, sent straight 0.5 ms (`bench/openai_call.py`), and it was
half of the relay's CPU per message (bench/README.md, "Relay CPU per message").

What the SDK would have done is kept, so the rest of the relay cannot tell the difference:
- the same URL (the client's `base_url`), headers (the client's `default_headers`, its
  key as a Bearer token) and JSON body;
- the same errors: a failed answer becomes the SDK's own exception, built by the SDK from
  the response (`_make_status_error_from_response`, openai/_base_client.py), with its
  `status_code`, `code`, `param` and headers (Retry-After); a connection that fails or
  times out raises `APIConnectionError` / `APITimeoutError` as the SDK does;
- the same timeouts (the SDK's aiohttp transport maps connect → `sock_connect`, read →
  `sock_read`, pool → `connect`);
- the same proxy: HTTP_PROXY / HTTPS_PROXY / NO_PROXY (and ~/.netrc), which the SDK's client
  honours, read once per base URL (aiohttp's `trust_env` would read them on every request:
  +0.45 ms).
The answer is returned as the JSON OpenAI sent (a dict of the `Response` object of
OpenAI's OpenAPI document); relay/assistant/tools.py reads it.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp
import httpx2
import openai
import yarl
from aiohttp.helpers import get_env_proxy_for_url


class ResponsesApi:
    """Creates responses over one aiohttp session (one pool of connections for every tenant:
    the key travels in each request's header, never in the connection)."""

    def __init__(self, *, timeout: float, connect_timeout: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_connect=connect_timeout,
                                              sock_read=timeout)
        self._ssl_context: ssl.SSLContext | None = None
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, tuple[yarl.URL | None, aiohttp.BasicAuth | None]] = {}

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context of every call to OpenAI (building one takes ~20 ms: built once,
        shared with the SDK's HTTP client)."""
        if self._ssl_context is None:
            self._ssl_context = httpx2.create_ssl_context()
        return self._ssl_context

    async def create(self, client: openai.AsyncOpenAI, body: dict[str, Any]) -> dict[str, Any]:
        """The Response object OpenAI answers to `body`, for the tenant whose key `client` holds.
        Raises the SDK's exceptions (openai.APIStatusError and its kin, APIConnectionError,
        APITimeoutError), never retries: the assistant's retry loop decides."""
        url = f"{client.base_url}responses"
        headers = {name: value for name, value in client.default_headers.items() if isinstance(value, str)}
        headers["Authorization"] = f"Bearer {client.api_key}"
        proxy, proxy_auth = self._proxy(url)
        try:
            async with self._open().post(url, data=json.dumps(body), headers=headers, timeout=self._timeout,
                                         proxy=proxy, proxy_auth=proxy_auth) as response:
                content = await response.read()
                status, raw_headers = response.status, response.raw_headers
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors too
            raise openai.APITimeoutError(request=_request(url)) from exc
        except aiohttp.ClientError as exc:
            raise openai.APIConnectionError(request=_request(url)) from exc
        if not 200 <= status < 300:
            raise client._make_status_error_from_response(
                httpx2.Response(status, headers=raw_headers, content=content, request=_request(url)))
        try:
            answer = json.loads(content)
        except ValueError:
            answer = None
        if not _well_formed(answer):
            raise openai.APIResponseValidationError(
                httpx2.Response(status, headers=raw_headers, content=content, request=_request(url)),
                None, message="OpenAI answered with something that is not a Response object.")
        return answer

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _proxy(self, url: str) -> tuple[yarl.URL | None, aiohttp.BasicAuth | None]:
        found = self._proxies.get(url)
        if found is None:
            try:
                found = get_env_proxy_for_url(yarl.URL(url))
            except LookupError:  # none set, or NO_PROXY names the host
                found = (None, None)
            self._proxies[url] = found
        return found

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            # 100 connections as the SDK's default limits; aiohttp keeps an idle one 15 s. No
            # cookie jar: one session serves every tenant, and OpenAI's API needs no cookie.
            connector = aiohttp.TCPConnector(limit=100, ssl=self.ssl_context)
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        return self._session


def _well_formed(answer: Any) -> bool:
    """The parts of a Response object the relay reads have the types OpenAI's OpenAPI
    document gives them (relay/assistant/tools.py may then read them without checks)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("usage") or {}, dict):
        return False
    output = answer.get("output") or []
    if not isinstance(output, list) or not all(isinstance(item, dict) for item in output):
        return False
    for item in output:
        kind = item.get("type")
        if kind in ("message", "reasoning", "function_call") and not isinstance(item.get("id"), str):
            return False
        if kind == "function_call" and not isinstance(item.get("call_id"), str):
            return False
        content = item.get("content") or []
        if kind == "message" and not (isinstance(content, list) and all(isinstance(part, dict) for part in content)):
            return False
    return True


def _request(url: str) -> httpx2.Request:
    """The request an SDK exception names (only ever built on failure)."""
    return httpx2.Request("POST", url)
