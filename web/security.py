"""What keeps the landing pages safe: response headers, rate limits, form tokens.

Headers go on through `on_response_prepare` rather than a request middleware: a
middleware only sees a response after the handler returns, when a streamed response
(the page's Server-Sent Events) has long sent its headers. The hook runs for every
response the application sends, error pages and streams included.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from urllib.parse import urlsplit

from aiohttp import web

from core.clock import Clock

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",  # the QR is inline SVG markup, not an image URL
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)
PRIVATE_PREFIX = "/c/"


def install_security_headers(app: web.Application) -> None:
    """Add the security headers to every response `app` sends."""
    app.on_response_prepare.append(_add_security_headers)


async def _add_security_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.path.startswith(PRIVATE_PREFIX):
        # The path holds the client's private token: no cache may keep it.
        headers["Cache-Control"] = "no-store"


class RateLimiter:
    """At most `limit` hits per key within a sliding window of `window_seconds`."""

    def __init__(self, limit: int, window_seconds: float, clock: Clock, max_keys: int = 10_000) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def blocked(self, key: str) -> bool:
        """Whether `key` has used up its hits in the current window."""
        hits = self._recent(key)
        return hits is not None and len(hits) >= self._limit

    def hit(self, key: str) -> bool:
        """Count one hit for `key`; False when it goes over the limit (the hit is not counted)."""
        if self.blocked(key):
            return False
        if len(self._hits) >= self._max_keys:
            self._forget_idle()
        self._hits.setdefault(key, deque()).append(self._clock.monotonic())
        return True

    def _recent(self, key: str) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        horizon = self._clock.monotonic() - self._window
        while hits and hits[0] <= horizon:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._hits)

    def _forget_idle(self) -> None:
        for key in list(self._hits):
            self._recent(key)
        while len(self._hits) >= self._max_keys:  # still full: the oldest key goes first
            del self._hits[next(iter(self._hits))]


class FormTokens:
    """CSRF tokens for the page's forms, derived from the landing token with a process key.

    The page's referrer policy makes browsers send `Origin: null` on form posts, so the
    Origin header alone cannot prove a post came from the page; this token can.
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def issue(self, landing_token: str) -> str:
        """The form token to embed in this landing page's forms."""
        return hmac.new(self._key, b"form:" + landing_token.encode(), hashlib.sha256).hexdigest()

    def valid(self, landing_token: str, presented: str | None) -> bool:
        """Whether `presented` is the form token of this landing page (constant time)."""
        return hmac.compare_digest(self.issue(landing_token).encode(), (presented or "").encode())


def cross_site(request: web.BaseRequest, public_url: str) -> bool:
    """True when the browser tells us the request comes from another site."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return False
    host = urlsplit(origin).netloc
    return host not in {request.host, urlsplit(public_url).netloc}
