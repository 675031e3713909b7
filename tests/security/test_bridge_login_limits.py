"""Failed /bridge logins cannot flood the relay or its log: after ten failures in a minute
from one client address, that address is answered 429 without its token being checked
until the window passes; the log keeps one line for the first failure and one summary per
address per minute; a bridge at another address, loopback included, connects throughout."""

from __future__ import annotations

import asyncio
import logging
from ipaddress import ip_network

import aiohttp
import pytest

from core.events import BridgeConnected
from relay.bridges.endpoint import BridgeEndpoint
from tests.fakes import BridgeRejected, FakeBridge
from tests.support.bridges import RelaySide
from web.server import HttpServer

ATTACKER = "203.0.113.7"


class GuardedRelay(RelaySide):
    """The relay side with the endpoint on the test's clock, behind the given proxies."""

    def __init__(self, store, clock, data_dir, trusted_proxies: str = "", window: float = 60.0) -> None:
        super().__init__(store, clock, data_dir)
        proxies = [ip_network(p) for p in trusted_proxies.split(",") if p]
        self.http = HttpServer("127.0.0.1", 0)
        self.endpoint = BridgeEndpoint(self.http.app, self.tenants, self.bridges, self.states, self.bus,
                                       clock=clock, trusted_proxies=proxies, failure_window=window)


@pytest.fixture
async def guarded(store, clock, tmp_path):
    """A factory: a running relay side, optionally behind trusted proxies."""
    sides: list[GuardedRelay] = []

    async def make(trusted_proxies: str = "", window: float = 60.0) -> GuardedRelay:
        side = GuardedRelay(store, clock, tmp_path / "data", trusted_proxies, window)
        sides.append(side)
        return await side.start()

    yield make
    for side in sides:
        await side.stop()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def login(http: aiohttp.ClientSession, url: str, tenant: str, token: str, forwarded_for: str | None = None
                ) -> aiohttp.ClientResponseError:
    """One bridge login that is expected to be refused; the refusal (status and headers)."""
    headers = {"X-Puente-Tenant": tenant, "Authorization": f"Bearer {token}"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(url, headers=headers)
    return refused.value


async def statuses(http, url: str, attempts: int, forwarded_for: str | None = None) -> list[int]:
    return [(await login(http, url, "tienda", "guessed-token", forwarded_for)).status for _ in range(attempts)]


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "relay.bridge" and r.levelno >= logging.WARNING]


async def connects(relay: GuardedRelay, token: str) -> bool:
    """Whether the real bridge of "tienda", on loopback, gets through the handshake."""
    bridge = FakeBridge(relay.url, "tienda", token)
    try:
        await bridge.start()
    except BridgeRejected:
        return False
    finally:
        await bridge.stop()
    await relay.events.wait_for(BridgeConnected, tenant="tienda")
    return True


async def test_failed_logins_beyond_ten_a_minute_are_answered_429(guarded, http) -> None:
    relay = await guarded()
    await relay.add_tenant("tienda")

    answers = await statuses(http, relay.url, 30)
    refused = await login(http, relay.url, "tienda", "guessed-token")

    assert answers == [401] * 10 + [429] * 20
    assert refused.status == 429 and refused.headers["Retry-After"] == "60"


async def test_a_flood_of_failed_logins_writes_one_line_then_one_summary_a_minute(guarded, http, clock,
                                                                                   caplog) -> None:
    caplog.set_level(logging.INFO, logger="relay.bridge")
    relay = await guarded()
    await relay.add_tenant("tienda")

    await statuses(http, relay.url, 150)
    for _ in range(50):
        await login(http, relay.url, "", "")  # malformed: refused without a lookup, counted all the same
    during_the_attack = warnings(caplog)
    clock.advance(seconds=61)
    await login(http, relay.url, "tienda", "guessed-token")  # the next minute's first failure
    lines = warnings(caplog)

    assert during_the_attack == [("bridge login refused from 127.0.0.1: tenant tienda: wrong token or unknown tenant "
                                  "(further failures from this address are summarised every 60 s)")]
    assert lines[1:] == ["200 failed bridge logins from 127.0.0.1 in the last 61 s (190 of them answered 429 unchecked)"]


async def test_an_attack_that_stops_is_summarised_without_another_login(guarded, http, clock, caplog) -> None:
    relay = await guarded(window=0.4)  # the endpoint looks for passed windows every 0.1 s of real time
    await relay.add_tenant("tienda")

    await statuses(http, relay.url, 25)
    clock.advance(seconds=1)
    for _ in range(50):  # the endpoint's own sweep, on real time
        if len(warnings(caplog)) > 1:
            break
        await asyncio.sleep(0.05)

    assert warnings(caplog)[1:] == [("25 failed bridge logins from 127.0.0.1 in the last 1 s "
                                     "(15 of them answered 429 unchecked)")]


async def test_a_bridge_on_loopback_connects_during_an_attack_from_another_address(guarded, http) -> None:
    relay = await guarded(trusted_proxies="127.0.0.1")  # the attack comes through a proxy on loopback
    token = await relay.add_tenant("tienda")

    attack = await statuses(http, relay.url, 30, forwarded_for=ATTACKER)

    assert attack[10:] == [429] * 20
    assert await connects(relay, token)


async def test_without_trusted_proxies_a_forwarded_header_does_not_dodge_the_limit(guarded, http) -> None:
    relay = await guarded()
    await relay.add_tenant("tienda")

    answers = [(await login(http, relay.url, "tienda", "guessed-token", f"198.51.100.{n}")).status for n in range(20)]

    assert answers == [401] * 10 + [429] * 10


async def test_a_correct_token_from_a_limited_address_waits_for_the_window_then_connects(guarded, http,
                                                                                         clock) -> None:
    relay = await guarded()
    token = await relay.add_tenant("tienda")
    await statuses(http, relay.url, 10)

    refused_at_once = await login(http, relay.url, "tienda", token)
    clock.advance(seconds=59)
    refused_a_second_before = await login(http, relay.url, "tienda", token)
    clock.advance(seconds=1)

    assert refused_at_once.status == 429 and refused_a_second_before.status == 429
    assert await connects(relay, token)
    assert await statuses(http, relay.url, 11) == [401] * 10 + [429]  # a fresh window, a fresh limit


async def test_successful_logins_are_neither_counted_nor_limited(guarded, http) -> None:
    relay = await guarded()
    token = await relay.add_tenant("tienda")

    before = await statuses(http, relay.url, 9)
    reconnections = [await connects(relay, token) for _ in range(20)]
    after = await statuses(http, relay.url, 2)

    assert before == [401] * 9 and all(reconnections)
    assert after == [401, 429]  # the tenth failure is still checked; only the eleventh is not
