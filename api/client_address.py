"""Who is asking, by network address: the peer, or behind a trusted proxy the client it names.

`X-Forwarded-For` is anyone's to send, so it counts only when the peer is one of the proxies
SECRETARIAT_TRUSTED_PROXIES names; then the client is the right-most address in it that is not
itself a trusted proxy (the left-most ones are the client's own claims). `serve` has uvicorn do
the same for the scheme and the peer; doing it here as well keeps the app right under any server.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Iterable

from starlette.requests import Request

Network = IPv4Network | IPv6Network


def parse_trusted_proxies(value: str) -> tuple[Network, ...]:
    """"10.0.0.1, 192.168.0.0/16" -> networks; ValueError naming a bad entry."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is neither an IP address nor a network (CIDR such as 10.0.0.0/8)") from None
    return tuple(networks)


def is_trusted(address: str, proxies: Iterable[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: Request, proxies: tuple[Network, ...]) -> str:
    """The address to throttle and log: the peer, or the client a trusted proxy forwarded for."""
    peer = request.client.host if request.client else "unknown"
    if not proxies or not is_trusted(peer, proxies):
        return peer
    hops = [hop.strip() for header in request.headers.getlist("x-forwarded-for") for hop in header.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not is_trusted(hop, proxies):
            return hop if _is_address(hop) else peer
    return peer


def throttle_key(address: str) -> str:
    """The unit to count sign-in failures by: an IPv4 address, or an IPv6 client's /64.

    Whoever has one IPv6 address usually has its whole /64 (2^64 of them) to pick from,
    so counting IPv6 addresses one by one would let them spread guesses without limit.
    """
    try:
        ip = ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
