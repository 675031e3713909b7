"""Live-update streams (Server-Sent Events on the landing pages) cannot freeze the relay:
they are limited per landing link, per client address and in total (429 beyond), and a
QR change is drawn once and the same bytes go to every open page, so /healthz stays quick."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp

from tests.support.web import LandingRig, read_sse_event
from web.status_panel import fingerprint

STREAMS = 200
QR_CHANGES = 5


@contextlib.asynccontextmanager
async def landing(store, clock, **options):
    async with LandingRig(store, clock, **options) as rig, aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0)) as http:
        yield rig, http


async def open_stream(http: aiohttp.ClientSession, url: str, address: str | None = None) -> aiohttp.ClientResponse:
    headers = {"X-Forwarded-For": address} if address else {}
    response = await http.get(f"{url}/events", headers=headers, timeout=aiohttp.ClientTimeout(total=None))
    if response.status != 200:
        response.release()
    return response


async def test_streams_beyond_ten_on_one_link_get_429(store, clock):
    async with landing(store, clock) as (rig, http):
        tenant = await rig.new_tenant()
        opened = [await open_stream(http, rig.page_url(tenant)) for _ in range(10)]
        refused = await open_stream(http, rig.page_url(tenant))

        assert [r.status for r in opened] == [200] * 10
        assert refused.status == 429 and refused.headers["Retry-After"]
        assert rig.pages.live.count(tenant.slug) == 10
        for response in opened:
            response.close()


async def test_streams_are_limited_per_client_address(store, clock):
    async with landing(store, clock, settings={"trusted_proxies": "127.0.0.1"}, streams_per_address=3) as (rig, http):
        tenants = [await rig.new_tenant(name=f"Tienda {n}", slug=f"tienda-{n}") for n in range(4)]
        mine = [await open_stream(http, rig.page_url(t), "203.0.113.7") for t in tenants[:3]]
        refused = await open_stream(http, rig.page_url(tenants[3]), "203.0.113.7")
        someone_else = await open_stream(http, rig.page_url(tenants[3]), "198.51.100.9")

        assert [r.status for r in mine] == [200] * 3 and refused.status == 429 and someone_else.status == 200
        for response in (*mine, someone_else):
            response.close()


async def test_streams_are_capped_in_total_by_landing_streams_max(store, clock):
    async with landing(store, clock, settings={"trusted_proxies": "127.0.0.1", "landing_streams_max": 4}) as (rig, http):
        tenants = [await rig.new_tenant(name=f"Tienda {n}", slug=f"tienda-{n}") for n in range(5)]
        opened = [await open_stream(http, rig.page_url(t), f"198.51.100.{n}") for n, t in enumerate(tenants)]

        assert [r.status for r in opened] == [200, 200, 200, 200, 429]
        for response in opened[:4]:
            response.close()


async def healthz_latencies(http: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        async with http.get(f"{url}/healthz") as response:
            assert response.status == 200
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)
    return latencies


async def test_healthz_answers_quickly_while_the_qr_changes_under_200_open_pages(store, clock):
    streams = STREAMS  # the limits are raised for the test: one link, one address
    async with landing(store, clock, streams_per_link=streams, streams_per_address=streams) as (rig, http):
        tenant = await rig.new_tenant()
        bridge = await rig.bridge_for(tenant, state="waiting_qr")
        await bridge.send_qr("2@qr-0")
        first = await rig.wait_state(tenant, lambda s: s.qr == "2@qr-0")
        url = f"{rig.page_url(tenant)}/events?seen={fingerprint(tenant, first)}"
        pages = await asyncio.gather(*(http.get(url, timeout=aiohttp.ClientTimeout(total=None)) for _ in range(streams)))
        assert {p.status for p in pages} == {200} and rig.pages.live.count(tenant.slug) == streams

        stop = asyncio.Event()
        probe = asyncio.ensure_future(healthz_latencies(http, rig.url, stop))
        for n in range(1, QR_CHANGES + 1):
            await bridge.send_qr(f"2@qr-{n}")
            await rig.wait_state(tenant, lambda s, n=n: s.qr == f"2@qr-{n}")
            await asyncio.sleep(0.2)
        # Every page got a QR drawing (the newest it had time for): the same bytes for all.
        drawings = await asyncio.gather(*(read_sse_event(p, "qr", timeout=20) for p in pages))
        stop.set()
        latencies = await probe
        for page in pages:
            page.close()

    assert len(set(drawings)) == 1 and "<svg" in drawings[0]
    worst = max(latencies)
    print(f"/healthz with {streams} open pages and {QR_CHANGES} QR changes: "
          f"{len(latencies)} probes, worst {worst * 1000:.0f} ms")
    assert worst < 0.2, f"/healthz took {worst * 1000:.0f} ms"
