"""A token checked once is kept, so that the next requests need not check its signature again; it still ends
when it expires, and a token that failed is never kept."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from api.tokens import TokenHolder, TokenIssuer

KEY = "a key for the tests, at least 32 bytes long"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_kept_token_is_refused_once_it_expires():
    clock = Clock()
    tokens = TokenIssuer(KEY, timedelta(minutes=10), clock=clock)
    token = tokens.issue("sara", 3, now=datetime.fromtimestamp(clock.now, timezone.utc))
    assert tokens.holder_of(token) == TokenHolder("sara", 3)
    clock.now += 599
    assert tokens.holder_of(token) == TokenHolder("sara", 3)
    clock.now += 2  # past `exp`, which the JWT library refuses from that second on
    assert tokens.holder_of(token) is None
    clock.now -= 300  # dropped when refused, it is checked afresh (signature and the library's own clock)
    assert tokens.holder_of(token) == TokenHolder("sara", 3)


def test_a_forged_or_expired_token_is_not_kept():
    tokens = TokenIssuer(KEY, timedelta(minutes=10))
    forged = TokenIssuer("another key, also at least 32 bytes long", timedelta(minutes=10)).issue("sara")
    expired = tokens.issue("sara", now=datetime.now(timezone.utc) - timedelta(hours=1))
    assert tokens.holder_of(forged) is None and tokens.holder_of(expired) is None
    assert tokens.holder_of(forged) is None and tokens.holder_of(expired) is None


def test_a_kept_token_answers_only_for_its_own_scope():
    tokens = TokenIssuer(KEY, timedelta(minutes=10))
    calendar_token, _ = tokens.issue_calendar("sara")
    access_token = tokens.issue("sara")
    for _ in range(2):  # the first time checked, the second time kept
        assert tokens.holder_of(calendar_token) is None
        assert tokens.holder_of(calendar_token, scope="calendar") == TokenHolder("sara", 0)
        assert tokens.holder_of(access_token, scope="calendar") is None
        assert tokens.holder_of(access_token) == TokenHolder("sara", 0)
