"""Operations endpoints: GET /healthz, GET /readyz, GET /metrics.

They are served on the operations listener (OPS_HOST:OPS_PORT, loopback by default),
because /metrics names every client and their traffic. The public port (the landing
pages) keeps /healthz and /readyz, for load balancers and orchestrators; /metrics is
not there (404)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core.metrics import Metrics

log = logging.getLogger("web.ops")
PING_TIMEOUT = 3.0


class Pingable(Protocol):
    """relay.store.Store, as far as readiness needs it."""

    async def ping(self) -> None: ...


class OpsEndpoints:
    """Liveness, readiness and Prometheus metrics for the process."""

    def __init__(self, store: Pingable, metrics: Metrics, is_bot_polling: Callable[[], bool],
                 bot_reconnecting: Callable[[], bool] = lambda: False) -> None:
        self._store = store
        self._metrics = metrics
        self._is_bot_polling = is_bot_polling
        self._bot_reconnecting = bot_reconnecting

    def install(self, app: web.Application) -> None:
        """Add the three routes to `app` (the operations listener's)."""
        self.install_public(app)
        app.router.add_get("/metrics", self._metrics_text)

    def install_public(self, app: web.Application) -> None:
        """Add /healthz and /readyz, never /metrics (the public listener's)."""
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        problems = []
        try:
            await asyncio.wait_for(self._store.ping(), PING_TIMEOUT)
        except Exception as exc:
            log.warning("not ready: the store does not answer (%s)", type(exc).__name__)
            problems.append("store: down (the database does not answer)")
        try:
            polling = bool(self._is_bot_polling())
        except Exception:
            log.exception("not ready: cannot tell whether the admin bot polls")
            polling = False
        if not polling and self._bot_reconnecting():
            problems.append("admin bot: down (Telegram unreachable, retrying)")
        elif not polling:
            problems.append("admin bot: down (not polling Telegram)")
        if problems:
            return web.Response(status=503, text="not ready\n" + "\n".join(problems) + "\n")
        return web.Response(text="ready\nstore: up\nadmin bot: up\n")

    async def _metrics_text(self, request: web.Request) -> web.Response:
        body = generate_latest(self._metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
