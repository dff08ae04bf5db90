"""Access tokens: short-lived JWTs (HS256) naming the user; roles are read fresh on every request.

A calendar token is the same kind of JWT with `scope: "calendar"`, long-lived because calendar
clients cannot sign in; only the feed accepts it, and access-token checks refuse it.

Each token carries its user's token generation (`gen`) at issue; the user's generation moves on
a password change, signing out and deactivation (domain/user.py), which ends every older token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt


CALENDAR_SCOPE = "calendar"


@dataclass(frozen=True)
class TokenHolder:
    username: str
    generation: int


class TokenIssuer:
    ISSUER = "secretariat"

    def __init__(self, key: str, ttl: timedelta, calendar_ttl: timedelta = timedelta(days=365)) -> None:
        self._key = key
        self.ttl = ttl
        self.calendar_ttl = calendar_ttl

    def issue(self, username: str, generation: int = 0, now: datetime | None = None) -> str:
        now = now or datetime.now(timezone.utc)
        claims = {"sub": username, "iss": self.ISSUER, "iat": now, "exp": now + self.ttl, "gen": generation}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def issue_calendar(self, username: str, generation: int = 0,
                       now: datetime | None = None) -> tuple[str, datetime]:
        """A feed-only token for the user, and when it expires."""
        now = now or datetime.now(timezone.utc)
        expires = now + self.calendar_ttl
        claims = {"sub": username, "iss": self.ISSUER, "iat": now, "exp": expires, "scope": CALENDAR_SCOPE,
                  "gen": generation}
        return jwt.encode(claims, self._key, algorithm="HS256"), expires

    def holder_of(self, token: str, *, scope: str | None = None) -> TokenHolder | None:
        """Whom the token names and of which generation, or None if it is forged, expired, malformed or of
        another scope.

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
        sub, generation = claims.get("sub"), claims.get("gen", 0)  # tokens from before generations: 0
        if not isinstance(sub, str) or type(generation) is not int:
            return None
        return TokenHolder(sub, generation)
