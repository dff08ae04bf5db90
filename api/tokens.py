"""Access tokens: short-lived JWTs (HS256) naming the user; roles are read fresh on every request."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt


class TokenIssuer:
    ISSUER = "secretariat"

    def __init__(self, key: str, ttl: timedelta) -> None:
        self._key = key
        self.ttl = ttl

    def issue(self, username: str, now: datetime | None = None) -> str:
        now = now or datetime.now(timezone.utc)
        claims = {"sub": username, "iss": self.ISSUER, "iat": now, "exp": now + self.ttl}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def username_in(self, token: str) -> str | None:
        """The token's user, or None if it is forged, expired or malformed."""
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], issuer=self.ISSUER,
                                options={"require": ["sub", "exp", "iss"]})
        except jwt.PyJWTError:
            return None
        sub = claims.get("sub")
        return sub if isinstance(sub, str) else None
