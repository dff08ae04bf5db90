"""How often sign-in may be tried: per username, per client address, with back-off and lock-out.

Each wrong password counts against the username, the client address and the pair of both.
After a few free failures a key must wait before its next try (1 s, 2 s, 4 s... at most 5 min),
and at `lockout_failures` it is locked out for `lockout_seconds`; while a key with failures on
record has a try in flight, a second one is refused too, so concurrency buys nothing.

An IPv6 client counts by its /64 (api/client_address.py `throttle_key`), an IPv4 one by its address.

A username and address that signed in together before (a known pair) answer only to their own
count: otherwise anyone could lock a user out by guessing their password from elsewhere.

The state is in-process and bounded: at most `capacity` keys and known pairs each, the oldest
evicted first. The clock is injected (monotonic seconds) so tests move time by hand.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Hashable

from api.client_address import throttle_key

BACKOFF_CAP_SECONDS = 300.0
KNOWN_PAIR_SECONDS = 30 * 24 * 3600.0  # how long a successful sign-in vouches for its address


@dataclass(frozen=True)
class Policy:
    free_failures: int  # wrong passwords that cost no wait
    lockout_failures: int  # the failure that locks the key out
    lockout_seconds: float

    def wait_after(self, failures: int) -> float:
        if failures <= self.free_failures:
            return 0.0
        return min(BACKOFF_CAP_SECONDS, 2.0 ** (failures - self.free_failures - 1))


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    retry_at: float = 0.0  # end of the back-off or lock-out
    locked: bool = False
    in_flight: int = 0


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # whole seconds, for the Retry-After header
    locked_out: bool


@dataclass(frozen=True)
class LockOut:
    kind: str  # "username", "address" or "pair"
    username: str | None  # whose account, for the audit event; None for an address
    address: str | None
    seconds: float


@dataclass
class Attempt:
    username: str
    address: str
    known: bool  # the pair signed in before: it may wait for a verification slot
    keys: list[Hashable] = field(default_factory=list)


class SignInThrottle:
    def __init__(self, *, lockout_failures: int = 10, lockout_seconds: float = 900.0, capacity: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policies = {"username": Policy(3, lockout_failures, lockout_seconds),
                         "pair": Policy(3, lockout_failures, lockout_seconds),
                         # Many people may share one address (an office behind NAT): more leeway.
                         "address": Policy(10, 5 * lockout_failures, lockout_seconds)}
        self.capacity = capacity
        self.clock = clock
        self._records: OrderedDict[Hashable, _Record] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, username: str, address: str) -> Attempt | Refusal:
        """An attempt to go ahead with (release it with `succeeded`, `failed` or `abandoned`), or a refusal."""
        address = throttle_key(address)  # an IPv6 client counts by its /64
        with self._lock:
            now = self.clock()
            known = self._is_known(username, address, now)
            checked = [("pair", username, address)] if known else [("username", username), ("address", address)]
            waits = [self._wait(key, now) for key in checked]
            refusals = [wait for wait in waits if wait is not None]
            if refusals:
                return max(refusals, key=lambda r: r.retry_after)
            for key in checked:
                self._record(key).in_flight += 1
            return Attempt(username, address, known, checked)

    def succeeded(self, attempt: Attempt) -> None:
        with self._lock:
            self._release(attempt)
            self._records.pop(("pair", attempt.username, attempt.address), None)
            self._records.pop(("address", attempt.address), None)
            # Not the username's count: her own success must not reset the clock on someone guessing elsewhere.
            pair = (attempt.username, attempt.address)
            self._known[pair] = self.clock()
            self._known.move_to_end(pair)
            while len(self._known) > self.capacity:
                self._known.popitem(last=False)

    def failed(self, attempt: Attempt) -> list[LockOut]:
        """Count a wrong password against the username, the address and the pair; the lock-outs it caused."""
        with self._lock:
            self._release(attempt)
            now, locked = self.clock(), []
            keys = [("username", attempt.username), ("address", attempt.address),
                    ("pair", attempt.username, attempt.address)]
            for key in keys:
                record, policy = self._record(key), self.policies[key[0]]
                if now - record.last_failure > policy.lockout_seconds:
                    record.failures = 0  # an old streak is forgotten
                record.failures, record.last_failure = record.failures + 1, now
                if record.failures >= policy.lockout_failures and not record.locked:
                    record.locked, record.retry_at = True, now + policy.lockout_seconds
                    locked.append(LockOut(key[0], None if key[0] == "address" else attempt.username,
                                          None if key[0] == "username" else attempt.address,
                                          policy.lockout_seconds))
                elif not record.locked:
                    record.retry_at = now + policy.wait_after(record.failures)
            return locked

    def abandoned(self, attempt: Attempt) -> None:
        """The attempt never reached a verification (no slot free): it counts for nothing."""
        with self._lock:
            self._release(attempt)

    def _wait(self, key: Hashable, now: float) -> Refusal | None:
        record = self._records.get(key)
        if record is None:
            return None
        if record.locked and now >= record.retry_at:  # the lock-out is over: a fresh start
            del self._records[key]
            return None
        if now < record.retry_at:
            return Refusal(max(1, math.ceil(record.retry_at - now)), record.locked)
        if record.in_flight and record.failures:
            return Refusal(1, False)
        return None

    def _record(self, key: Hashable) -> _Record:
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = _Record()
            while len(self._records) > self.capacity:
                self._records.popitem(last=False)
        self._records.move_to_end(key)
        return record

    def _release(self, attempt: Attempt) -> None:
        for key in attempt.keys:
            record = self._records.get(key)
            if record is not None and record.in_flight:
                record.in_flight -= 1

    def _is_known(self, username: str, address: str, now: float) -> bool:
        since = self._known.get((username, address))
        return since is not None and now - since < KNOWN_PAIR_SECONDS
