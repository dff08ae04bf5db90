"""Which address a sign-in counts against: X-Forwarded-For only from a trusted proxy."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from api.client_address import client_address, parse_trusted_proxies


def request_from(peer: str, forwarded_for: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for is not None else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 5000)})


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards():
    assert client_address(request_from("192.0.2.7", "203.0.113.1"), ()) == "192.0.2.7"


def test_a_trusted_proxy_names_the_client_and_a_forged_left_part_is_ignored():
    proxies = parse_trusted_proxies("127.0.0.1, 10.0.0.0/8")
    assert client_address(request_from("127.0.0.1", "203.0.113.1"), proxies) == "203.0.113.1"
    # The client wrote "1.2.3.4" itself; the trusted proxies appended the rest.
    assert client_address(request_from("10.1.1.1", "1.2.3.4, 198.51.100.2, 10.2.2.2"), proxies) == "198.51.100.2"
    assert client_address(request_from("192.0.2.7", "203.0.113.1"), proxies) == "192.0.2.7"  # not a proxy of ours
    assert client_address(request_from("127.0.0.1", "not-an-address"), proxies) == "127.0.0.1"


def test_a_bad_trusted_proxies_entry_is_named():
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        parse_trusted_proxies("127.0.0.1,10.0.0.300")
    assert parse_trusted_proxies("") == ()
