"""/metrics names every client and their traffic: it is served only on the operations
listener (OPS_HOST, loopback by default), never on the landing pages' public port."""

from __future__ import annotations

import aiohttp

from core.settings import Settings
from tests.support.faults import FaultWorld


async def test_metrics_only_on_the_operations_listener(tmp_path):
    async with FaultWorld(tmp_path) as world, aiohttp.ClientSession() as http:
        await world.add_tenant("tienda-secreta")
        world.puente.metrics.messages_in.labels("tienda-secreta").inc()
        public = f"http://127.0.0.1:{world.puente.http.port}"
        ops = f"http://127.0.0.1:{world.puente.ops_http.port}"
        seen = {}
        for base in (public, ops):
            for path in ("/metrics", "/healthz", "/readyz"):
                async with http.get(base + path) as response:
                    seen[base, path] = (response.status, await response.text())

    assert seen[public, "/metrics"][0] == 404 and "tienda-secreta" not in seen[public, "/metrics"][1]
    assert seen[public, "/healthz"] == (200, "ok\n") == seen[ops, "/healthz"]
    assert seen[ops, "/metrics"][0] == 200 and 'puente_messages_in_total{tenant="tienda-secreta"}' in seen[ops, "/metrics"][1]
    assert seen[ops, "/readyz"][0] == 200 == seen[public, "/readyz"][0]
    assert "tienda-secreta" not in seen[public, "/readyz"][1]


def test_the_operations_listener_is_on_loopback_by_default():
    settings = Settings(_env_file=None)

    assert (settings.ops_host, settings.ops_port) == ("127.0.0.1", 9464)
    assert settings.http_host == "0.0.0.0"
