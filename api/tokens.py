"""Access tokens: short-lived JWTs (HS256) naming the user; roles are read fresh on every request.

A calendar token is the same kind of JWT with `scope: "calendar"`, long-lived because calendar
clients cannot sign in; only the feed accepts it, and access-token checks refuse it.

Each token carries its user's token generation (`gen`) at issue; the user's generation moves on
a password change, signing out and deactivation (domain/user.py), which ends every older token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import jwt


CALENDAR_SCOPE = "calendar"
# Tokens whose signature and claims were checked once, kept so that each request need not check them again
# (about a tenth of a millisecond of CPU each): only time can make such a token fail, by expiring.
VERIFIED_TOKENS_KEPT = 4096


@dataclass(frozen=True)
class TokenHolder:
    username: str
    generation: int


class TokenIssuer:
    ISSUER = "secretariat"

    def __init__(self, key: str, ttl: timedelta, calendar_ttl: timedelta = timedelta(days=365), *,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self.ttl = ttl
        self.calendar_ttl = calendar_ttl
        self._clock = clock  # seconds since the epoch, as the JWT library reads the time
        # token -> (its holder, its scope, when it expires): tokens that passed every check once.
        self._verified: dict[str, tuple[TokenHolder, str | None, float]] = {}

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
        verified = self._verified.get(token) or self._verify(token)
        if verified is None:
            return None
        holder, token_scope, expires = verified
        if self._clock() >= expires:  # as the JWT library decides it: expired once `exp` is reached
            self._verified.pop(token, None)
            return None
        return holder if token_scope == scope else None

    def _verify(self, token: str) -> tuple[TokenHolder, str | None, float] | None:
        """The token's holder, scope and expiry if its signature and claims are good now (kept for next time)."""
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], issuer=self.ISSUER,
                                options={"require": ["sub", "exp", "iss"]})
        except jwt.PyJWTError:
            return None
        sub, generation = claims.get("sub"), claims.get("gen", 0)  # tokens from before generations: 0
        if not isinstance(sub, str) or type(generation) is not int:
            return None
        verified = (TokenHolder(sub, generation), claims.get("scope"), int(claims["exp"]))
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()  # rare: that many live tokens at once; each is checked afresh once
        self._verified[token] = verified
        return verified
