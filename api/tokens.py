"""Access tokens: short-lived JWTs (HS256) naming the user; roles are read fresh on every request.

A calendar token is the same kind of JWT with `scope: "calendar"`, long-lived because calendar
clients cannot sign in; only the feed accepts it, and access-token checks refuse it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt


CALENDAR_SCOPE = "calendar"


class TokenIssuer:
    ISSUER = "secretariat"

    def __init__(self, key: str, ttl: timedelta, calendar_ttl: timedelta = timedelta(days=365)) -> None:
        self._key = key
        self.ttl = ttl
        self.calendar_ttl = calendar_ttl

    def issue(self, username: str, now: datetime | None = None) -> str:
        now = now or datetime.now(timezone.utc)
        claims = {"sub": username, "iss": self.ISSUER, "iat": now, "exp": now + self.ttl}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def issue_calendar(self, username: str, now: datetime | None = None) -> tuple[str, datetime]:
        """A feed-only token for the user, and when it expires."""
        now = now or datetime.now(timezone.utc)
        expires = now + self.calendar_ttl
        claims = {"sub": username, "iss": self.ISSUER, "iat": now, "exp": expires, "scope": CALENDAR_SCOPE}
        return jwt.encode(claims, self._key, algorithm="HS256"), expires

    def username_in(self, token: str, *, scope: str | None = None) -> str | None:
        """The token's user, or None if it is forged, expired, malformed or of another scope.

        An access token has no scope; so a calendar token, which rides in URLs and lives a year,
        never passes for one.
        """
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], issuer=self.ISSUER,
                                options={"require": ["sub", "exp", "iss"]})
        except jwt.PyJWTError:
            return None
        if claims.get("scope") != scope:
            return None
        sub = claims.get("sub")
        return sub if isinstance(sub, str) else None
