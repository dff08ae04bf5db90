"""User administration, mixed into the application service: sign-in, users, roles, passwords.

Registering, granting and revoking are for admins; every change is an event on the user.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.personal_data import PersonalData, PersonalKeys
from domain.user import User

# Reminders resolve "role:ROLE" against every user, a scan of the log: kept this long, per process.
# A role granted elsewhere reaches reminders within a minute; this process's own changes at once.
USER_LIST_TTL = timedelta(seconds=60)


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class UserAdministration:
    # Provided by the application this is mixed into.
    hasher: PasswordHasher
    clock: Callable[[], Any]
    save: Callable[..., Any]
    repository: Any
    _load: Callable[..., Any]
    _ids_created_by: Callable[[type], list[UUID]]
    _user_list: tuple[Any, list[User]] | None = None  # (when read, users): see USER_LIST_TTL
    personal_keys: PersonalKeys | None

    def register_user(self, username: str, password: str, roles: Iterable[str], *, party: str | None = None,
                      email: str | None = None, actor: Actor) -> User:
        """Register a user (admins only); a second user of the same name is refused."""
        _refuse_unless_admin(actor)
        _check_password(password)
        user = User.register(username, self.hasher.hash(password), list(roles), party=party, email=email,
                             actor=actor.username, now=self.clock())
        try:
            self.save(user)
        except IntegrityError:
            raise Conflict(f"a user named {username!r} already exists") from None
        self._user_list = None
        return user

    def grant_role(self, username: str, role: str, *, party: str | None = None, actor: Actor) -> User:
        """Grant a role (admins only)."""
        _refuse_unless_admin(actor)
        user = self.user(username)
        user.grant(role, party=party, actor=actor.username, now=self.clock())
        self._save_user(user)
        return user

    def revoke_role(self, username: str, role: str, *, actor: Actor) -> User:
        """Revoke a role (admins only); it is gone from the user's next request."""
        _refuse_unless_admin(actor)
        user = self.user(username)
        user.revoke(role, actor=actor.username, now=self.clock())
        self._save_user(user)
        return user

    def change_password(self, username: str, password: str, *, actor: Actor,
                        current_password: str | None = None) -> User:
        """Change a password: one's own (giving the current one), or anyone's as an admin (a reset).

        Either way every token and calendar URL of the user ends.
        """
        if actor.username != username:
            _refuse_unless_admin(actor)
        _check_password(password)
        user = self.user(username)
        if actor.username == username:
            # A stolen session must not be enough to take the account over.
            if not current_password:
                raise ValidationFailed("current_password", "changing your own password needs your current one "
                                                           "(current_password)")
            if not self.hasher.verify(user.password_hash, current_password):
                raise Forbidden("the current password is wrong; your password is unchanged")
        user.change_password(self.hasher.hash(password), actor=actor.username, now=self.clock())
        self._save_user(user)
        return user

    def sign_out(self, username: str, *, everywhere: bool) -> User:
        """End the user's sessions and access tokens; `everywhere` ends their calendar URLs too."""
        user = self.user(username)
        user.sign_out(everywhere=everywhere, actor=username, now=self.clock())
        self._save_user(user)
        return user

    def deactivate_user(self, username: str, reason: str, *, actor: Actor) -> User:
        """Deactivate a user (admins only): they can no longer sign in, and every token of theirs ends."""
        _refuse_unless_admin(actor)
        user = self.user(username)
        user.deactivate(reason, actor=actor.username, now=self.clock())
        self._save_user(user)
        return user

    def reactivate_user(self, username: str, reason: str, *, actor: Actor) -> User:
        """Let a deactivated user sign in again (admins only); their old tokens stay ended."""
        _refuse_unless_admin(actor)
        user = self.user(username)
        user.reactivate(reason, actor=actor.username, now=self.clock())
        self._save_user(user)
        return user

    def record_lock_out(self, username: str, until: datetime, reason: str, *, actor: str) -> bool:
        """Record on the user that sign-in is refused until `until`; False if no such user."""
        try:
            user = self.user(username)
        except NotFound:
            return False
        for _attempt in range(3):  # a lock-out is a fact to record, whatever else changed the user meanwhile
            user.lock_out(until, reason, actor=actor, now=self.clock())
            try:
                self.save(user)
                return True
            except IntegrityError:
                user = self.user(username)
        raise Conflict(f"user {username} kept changing; the lock-out was not recorded")

    def change_email(self, username: str, email: str | None, *, actor: Actor) -> User:
        """Change where reminders are e-mailed: one's own address, or anyone's as an admin."""
        if actor.username != username:
            _refuse_unless_admin(actor)
        user = self.user(username)
        user.change_email(email, actor=actor.username, now=self.clock())
        self._save_user(user)
        return user

    def erase_personal_data(self, username: str, reason: str, *, actor: Actor) -> "Erasure":
        """Erase a user's personal data (admins only): delete their keys, then record the erasure on the user.

        Returns what a caller needs to finish the job outside the store (the plain values, to scrub
        copies of them from views and files) and to report honestly (events stored in the clear).
        """
        _refuse_unless_admin(actor)
        if self.personal_keys is None:
            raise Conflict("this application keeps no personal-data keys, so nothing can be erased")
        user = self.user(username)
        plain, in_clear = set(), 0
        for event in self.repository.event_store.get(user.id):
            value = getattr(event, "email", None)
            if isinstance(value, PersonalData) and value.value is not None:
                plain.add(value.value)
            elif isinstance(value, str):  # stored before encryption: no key to delete can reach it
                plain.add(value)
                in_clear += 1
        user.erase_personal_data(reason, actor=actor.username, now=self.clock())  # checks the reason first
        keys = self.personal_keys.erase(username)
        for _attempt in range(3):  # the keys are gone already: the record of it must not be lost to a race
            try:
                self.save(user)
                break
            except IntegrityError:
                user = self.user(username)
                user.erase_personal_data(reason, actor=actor.username, now=self.clock())
        else:
            raise Conflict(f"user {username} kept changing; the keys are deleted but the erasure was not recorded")
        self._user_list = None
        return Erasure(user, keys_deleted=keys, plain_values=sorted(plain), events_in_clear=in_clear)

    def recipients(self, addressed_to: Iterable[str]) -> list[User]:
        """The users a reminder's addressees name ("user:NAME", "role:ROLE"), each once, by name.

        A named user who does not exist, or a role nobody holds, resolves to nobody.
        """
        roles, names = set(), []
        for addressee in addressed_to:
            kind, _, name = addressee.partition(":")
            if kind == "role":
                roles.add(name)
            elif kind == "user":
                names.append(name)
        found = {u.username: u for u in (self._all_users() if roles else []) if roles & set(u.roles)}
        for name in names:  # loaded afresh, so a changed address counts at once
            try:
                found[name] = self.user(name)
            except NotFound:
                pass
        return [found[name] for name in sorted(found)]

    def _all_users(self) -> list[User]:
        cached, now = self._user_list, self.clock()
        if cached is None or not (cached[0] <= now < cached[0] + USER_LIST_TTL):
            cached = self._user_list = (now, [self.repository.get(i) for i in self._ids_created_by(User.Registered)])
        return cached[1]

    def usernames_holding(self, roles: Iterable[str]) -> list[str]:
        """The active users holding any of `roles`, by name: whom a piece of work may be given to."""
        wanted = set(roles)
        return sorted(u.username for u in self._all_users() if u.is_active and wanted & set(u.roles))

    def users(self, actor: Actor) -> list[User]:
        """Every user, by name (admins only)."""
        _refuse_unless_admin(actor)
        return sorted((self.repository.get(i) for i in self._ids_created_by(User.Registered)),
                      key=lambda u: u.username)

    def user(self, username: str) -> User:
        try:
            return self._load(User, User.id_for(username))
        except NotFound:
            raise NotFound(f"no user named {username!r}") from None

    def authenticate(self, username: str, password: str) -> Actor | None:
        """The actor, if the password is right; None otherwise (same work either way)."""
        user = self.signed_in_user(username, password)
        return user.as_actor() if user is not None else None

    def signed_in_user(self, username: str, password: str) -> User | None:
        """The active user, if the password is right; None otherwise (same work either way)."""
        try:
            user = self.user(username)
        except NotFound:
            self.hasher.verify(self._unknown_user_hash(), password)
            return None
        return user if self.hasher.verify(user.password_hash, password) and user.is_active else None

    def actor_named(self, username: str) -> Actor | None:
        try:
            user = self.user(username)
        except NotFound:
            return None
        return user.as_actor() if user.is_active else None

    def actor_holding(self, username: str, generation: int, *, calendar: bool = False) -> Actor | None:
        """The actor a token names, if it is of the user's current generation and the user is active.

        Asked on every request: the user as the store has it now, so a revoked role or an ended token is
        gone on the very next request, whichever process changed it. The per-process cache is brought
        up to date with one query for newer events (the library's fast-forward), and its copy is read
        as it is, not deep-copied as a command's would be: nothing here changes it.
        """
        try:
            user = self.repository.get(User.id_for(username), deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        if not isinstance(user, User):
            return None
        current = user.generation_pair()[1 if calendar else 0]
        return user.as_actor() if user.is_active and generation == current else None

    def _unknown_user_hash(self) -> str:
        """A real hash to verify against when the user does not exist, so the time taken tells nothing."""
        if not getattr(self, "_unknown_hash", None):
            self._unknown_hash = self.hasher.hash("unknown user: no password matches this")
        return self._unknown_hash

    def _save_user(self, user: User) -> None:
        try:
            self.save(user)
        except IntegrityError:
            raise Conflict(f"user {user.username} was changed at the same time; try again") from None
        self._user_list = None  # this process sees its own changes to roles and addresses at once


class Erasure:
    """What an erasure did: keys deleted, the plain values it made unreadable, events it could not reach."""

    def __init__(self, user: User, *, keys_deleted: int, plain_values: list[str], events_in_clear: int) -> None:
        self.user = user
        self.keys_deleted = keys_deleted
        self.plain_values = plain_values
        self.events_in_clear = events_in_clear


def _refuse_unless_admin(actor: Actor) -> None:
    if not actor.has_role("admin"):
        raise Forbidden("managing users needs the admin role")


def _check_password(password: str) -> None:
    # The minimum length is the edges' policy (the demo users' passwords are their names);
    # the maximum keeps a hash from being a denial of service.
    if not (1 <= len(password) <= 256):
        raise ValidationFailed("password", "a password has 1 to 256 characters")


