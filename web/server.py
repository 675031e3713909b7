"""The one aiohttp server: bridge endpoint, landing pages and operations endpoints."""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger("web.server")


class HttpServer:
    """Runs an aiohttp Application through AppRunner/TCPSite on the running loop.

    Components add their routes to `app` before `start()`.
    """

    def __init__(self, host: str, port: int) -> None:
        self.app = web.Application(client_max_size=1024**2)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server else []  # the real port when 0 was asked
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("listening on http://%s:%s", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
