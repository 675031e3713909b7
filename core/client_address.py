"""Who is asking: the address per-client limits count against, behind trusted proxies."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import web


def client_address(request: web.BaseRequest, trusted_proxies: Sequence[IPv4Network | IPv6Network] = ()) -> str:
    """The peer, or, when the peer is a trusted proxy (TRUSTED_PROXIES), the nearest
    X-Forwarded-For hop that is not one (a client cannot dodge a limit by forging the header)."""
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    address = request.remote or "unknown"
    while _trusted(address, trusted_proxies) and hops:
        address = hops.pop()
    return address


def _trusted(address: str, proxies: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)
