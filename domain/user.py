"""User: someone who signs in, with roles and, for a Party liaison, a Party.

Role grants and revocations are events, so auditors see who granted what and when.
The password hash is made outside the domain (the application's hasher); only the
hash is kept, and the audit log never shows it.

Tokens carry the user's token generations, and a token of an older generation is refused:
a password change or reset, signing out everywhere and deactivation end every token and
calendar URL; signing out of the pages ends every session and access token (calendar URLs,
which live a year in calendar clients, stay). The generations are counted from events, so
they ride with the user every request loads anyway.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.cheap_copy import CheapDeepCopy
from domain.effective_time import EffectiveEvent, EffectiveTime
from domain.actor import PARTIES, ROLES, Actor
from domain.errors import ValidationFailed
from domain.personal_data import PersonalData, reveal
from domain.workflow import check_rule

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
# fullmatch: `$` would let a trailing newline in; no control character ("erik\x00@..." was accepted)
EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,189}")


class User(CheapDeepCopy, EffectiveTime, Aggregate):
    class Event(EffectiveEvent, Aggregate.Event):
        actor: str
        occurred_at: datetime

    class Registered(Event, Aggregate.Created):
        username: str
        password_hash: str
        roles: list[str]
        party: str | None
        email: PersonalData | str | None  # a plain str in events stored before encryption

    class RoleGranted(Event):
        role: str
        party: str | None

        def apply(self, user: "User") -> None:
            user.roles = sorted({*user.roles, self.role})
            user.party = self.party or user.party

    class RoleRevoked(Event):
        role: str

        def apply(self, user: "User") -> None:
            user.roles = [r for r in user.roles if r != self.role]

    class PasswordChanged(Event):
        password_hash: str

        def apply(self, user: "User") -> None:
            user.password_hash = self.password_hash
            user.end_every_token()

    class SignedOut(Event):
        """Signed out of the pages: every session and access token ends; calendar URLs stay."""

        def apply(self, user: "User") -> None:
            user.access_generation = user.generation_pair()[0] + 1

    class SignedOutEverywhere(Event):
        def apply(self, user: "User") -> None:
            user.end_every_token()

    class Deactivated(Event):
        reason: str

        def apply(self, user: "User") -> None:
            user.active = False
            user.end_every_token()

    class Reactivated(Event):
        reason: str

        def apply(self, user: "User") -> None:
            user.active = True

    class LockedOut(Event):
        """Sign-in refused for a while after repeated wrong passwords (actor: the sign-in throttle)."""
        reason: str
        until: datetime

    class EmailChanged(Event):
        email: PersonalData | str | None  # a plain str in events stored before encryption

        def apply(self, user: "User") -> None:
            user.__dict__["email"] = self.email

    class PersonalDataErased(Event):
        """The user's keys were deleted: every piece of their personal data in events reads `[erased]`."""
        reason: str

        def apply(self, user: "User") -> None:
            had = user.__dict__.get("email")
            user.__dict__["email"] = PersonalData.erased_for(user.username) if had is not None else None

    def __init__(self, username: str, password_hash: str, roles: list[str], party: str | None,
                 email: PersonalData | str | None) -> None:
        self.username = username
        self.password_hash = password_hash
        self.roles = sorted(roles)
        self.party = party
        # Kept as stored (PersonalData, or a plain str from before encryption) under the name it always
        # had in the state (snapshots); the `email` property above it reads the plain address.
        self.__dict__["email"] = email
        self.active = True
        self.access_generation = 0  # access tokens and page sessions
        self.calendar_generation = 0  # calendar feed tokens

    def generation_pair(self) -> tuple[int, int]:
        """(access, calendar) token generations; users restored from older snapshots start at 0."""
        return getattr(self, "access_generation", 0), getattr(self, "calendar_generation", 0)

    def end_every_token(self) -> None:
        access, calendar = self.generation_pair()
        self.access_generation, self.calendar_generation = access + 1, calendar + 1

    @property
    def email(self) -> str | None:
        """Where reminders are e-mailed; None if nowhere or erased."""
        return reveal(self.__dict__.get("email"))

    @property
    def email_shown(self) -> str | None:
        """The address as answers and pages show it: `[erased]` once erased."""
        stored = self.__dict__.get("email")
        return str(stored) if stored is not None else None

    @property
    def is_active(self) -> bool:
        return getattr(self, "active", True)

    @staticmethod
    def id_for(username: str) -> UUID:
        """User ids derive from the username, so the store itself refuses a second user of that name."""
        return uuid5(NAMESPACE_URL, f"secretariat:user:{username}")

    @classmethod
    def register(cls, username: str, password_hash: str, roles: list[str], *, party: str | None,
                 email: str | None, actor: str, now: datetime) -> "User":
        if not USERNAME.match(username):
            raise ValidationFailed("username", "a username is 2-64 characters: lower-case letters, digits, . _ -, "
                                               "starting with a letter")
        for role in roles:
            _check_role(role, party)
        return cls._create(cls.Registered, id=cls.id_for(username), timestamp=now, actor=actor,
                           username=username, password_hash=password_hash, roles=sorted(set(roles)),
                           party=party, email=PersonalData.of(username, email))

    def grant(self, role: str, *, party: str | None, actor: str, now: datetime) -> None:
        _check_role(role, party or self.party)
        check_rule(role not in self.roles, f"{self.username} already has the role {role}")
        self.trigger_event(self.RoleGranted, timestamp=now, actor=actor, role=role,
                           party=party if role == "party" else None)

    def revoke(self, role: str, *, actor: str, now: datetime) -> None:
        check_rule(role in self.roles, f"{self.username} does not have the role {role}")
        self.trigger_event(self.RoleRevoked, timestamp=now, actor=actor, role=role)

    def change_password(self, password_hash: str, *, actor: str, now: datetime) -> None:
        self.trigger_event(self.PasswordChanged, timestamp=now, actor=actor, password_hash=password_hash)

    def sign_out(self, *, everywhere: bool, actor: str, now: datetime) -> None:
        self.trigger_event(self.SignedOutEverywhere if everywhere else self.SignedOut, timestamp=now, actor=actor)

    def deactivate(self, reason: str, *, actor: str, now: datetime) -> None:
        check_rule(self.is_active, f"{self.username} is already deactivated")
        self.trigger_event(self.Deactivated, timestamp=now, actor=actor, reason=reason)

    def reactivate(self, reason: str, *, actor: str, now: datetime) -> None:
        check_rule(not self.is_active, f"{self.username} is active")
        self.trigger_event(self.Reactivated, timestamp=now, actor=actor, reason=reason)

    def lock_out(self, until: datetime, reason: str, *, actor: str, now: datetime) -> None:
        self.trigger_event(self.LockedOut, timestamp=now, actor=actor, reason=reason, until=until)

    def change_email(self, email: str | None, *, actor: str, now: datetime) -> None:
        """Where reminders are e-mailed; None: nowhere."""
        if email is not None and not EMAIL.fullmatch(email):
            raise ValidationFailed("email", f"{email!r} is not an e-mail address (name@domain)")
        check_rule(email != self.email, f"{self.username}'s e-mail address is already {email}")
        self.trigger_event(self.EmailChanged, timestamp=now, actor=actor, email=PersonalData.of(self.username, email))

    def erase_personal_data(self, reason: str, *, actor: str, now: datetime) -> None:
        """Record that the user's keys were deleted (the caller deletes them first)."""
        if not reason or not reason.strip():
            raise ValidationFailed("reason", "an erasure needs a reason (e.g. the request it answers)")
        self.trigger_event(self.PersonalDataErased, timestamp=now, actor=actor, reason=reason)

    def as_actor(self) -> Actor:
        return Actor(self.username, frozenset(self.roles), self.party if "party" in self.roles else None)


def _check_role(role: str, party: str | None) -> None:
    if role not in ROLES:
        raise ValidationFailed("role", f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
    if role == "party" and party not in PARTIES:
        raise ValidationFailed("party", f"the party role needs a Party code, one of: {', '.join(PARTIES)}")
