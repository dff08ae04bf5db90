"""A calendar token opens the feed only, and an access token never opens the feed's query door."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from api.tokens import CALENDAR_SCOPE, TokenHolder, TokenIssuer

KEY = "a key for the tests, at least 32 bytes long"
SARA = TokenHolder("sara", 0)


def test_a_calendar_token_names_its_user_only_when_the_calendar_scope_is_asked_for():
    tokens = TokenIssuer(KEY, timedelta(hours=8), timedelta(days=365))
    calendar_token, _expires = tokens.issue_calendar("sara")
    assert tokens.holder_of(calendar_token, scope=CALENDAR_SCOPE) == SARA
    assert tokens.holder_of(calendar_token) is None  # refused as an access token


def test_an_access_token_is_not_a_calendar_token():
    tokens = TokenIssuer(KEY, timedelta(hours=8))
    access_token = tokens.issue("sara")
    assert tokens.holder_of(access_token) == SARA
    assert tokens.holder_of(access_token, scope=CALENDAR_SCOPE) is None


def test_a_calendar_token_lives_as_long_as_configured_and_then_is_refused():
    tokens = TokenIssuer(KEY, timedelta(hours=8), timedelta(days=30))
    issued = datetime.now(timezone.utc) - timedelta(days=31)
    expired, expires = tokens.issue_calendar("sara", now=issued)
    assert expires == issued + timedelta(days=30)
    assert tokens.holder_of(expired, scope=CALENDAR_SCOPE) is None
