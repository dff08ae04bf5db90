"""Signing in, for the API's token route and the pages' form alike: throttled, and never starving the API.

A password check costs Argon2's time and memory on purpose, so:
- the throttle (api/sign_in_throttle.py) refuses a try that comes too soon after wrong passwords
  (429 with Retry-After) before any work is done;
- at most `max_concurrent` checks run at once, in the thread pool, and one of them is kept for
  pairs (username and address) that signed in before. When none is free, such a pair waits for
  one on the event loop (up to `wait_seconds`), and anyone else is told to come back (503 with
  Retry-After) rather than queueing: so a flood of sign-ins can take at most that many threads
  and that much memory from everything else, and never the slot a returning user needs;
- a stranger's check runs in threads of the lowest CPU priority (nice 19, on Linux), so password
  guessing gets only the CPU that signed-in users and returning ones leave over;
- a lock-out of an existing user is recorded on the user (`User.LockedOut`), in the decision log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.client_address import Network, client_address
from api.sign_in_throttle import Attempt, Refusal, SignInThrottle
from domain.application import SecretariatApplication
from domain.user import User

log = logging.getLogger("secretariat.sign_in")

THROTTLE_ACTOR = "sign-in-throttle"


class SignInRefused(HTTPException):
    """Not tried at all: too soon after wrong passwords (429), or no verification slot free (503)."""

    def __init__(self, status: int, detail: str, retry_after: int) -> None:
        super().__init__(status, detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class SignInGate:
    def __init__(self, throttle: SignInThrottle | None = None, *, max_concurrent: int = 2,
                 trusted_proxies: tuple[Network, ...] = (), wait_seconds: float = 5.0) -> None:
        self.throttle = throttle or SignInThrottle()
        self.max_concurrent = max_concurrent
        self.trusted_proxies = trusted_proxies
        self.wait_seconds = wait_seconds
        # Made on the event loop that uses them: every check takes a slot; a stranger's also takes one of the
        # strangers' slots, one fewer than all (unless there is only one), so one is always left for known pairs.
        self._slots: asyncio.Semaphore | None = None
        self._strangers: asyncio.Semaphore | None = None
        self._strangers_threads = ThreadPoolExecutor(max(1, max_concurrent - 1), "sign-in-stranger",
                                                     initializer=_lowest_cpu_priority)

    async def sign_in(self, request: Request, service: SecretariatApplication, username: str,
                      password: str) -> User | None:
        """The user if the password is right, None if not; SignInRefused if it was not even tried."""
        address = client_address(request, self.trusted_proxies)
        attempt = self.throttle.admit(username, address)
        if isinstance(attempt, Refusal):
            raise _too_soon(attempt)
        try:
            await self._take_slot(attempt)
        except BaseException:
            self.throttle.abandoned(attempt)
            raise
        try:
            if attempt.known:
                user = await run_in_threadpool(service.signed_in_user, username, password)
            else:
                user = await asyncio.get_running_loop().run_in_executor(
                    self._strangers_threads, service.signed_in_user, username, password)
        except BaseException:
            self.throttle.abandoned(attempt)
            raise
        finally:
            self._slots.release()
            if not attempt.known:
                self._strangers.release()
        if user is not None:
            self.throttle.succeeded(attempt)
            return user
        for lock_out in self.throttle.failed(attempt):
            until = service.clock() + timedelta(seconds=lock_out.seconds)
            log.warning("sign-in locked out until %s: %s %s after repeated wrong passwords", until.isoformat(),
                        lock_out.kind, lock_out.username or lock_out.address)
            if lock_out.username is not None:
                where = f" from {lock_out.address}" if lock_out.address else ""
                await run_in_threadpool(service.record_lock_out, lock_out.username, until,
                                        f"{self.throttle.policies[lock_out.kind].lockout_failures} wrong passwords"
                                        f"{where}; sign-in refused until {until.isoformat()}",
                                        actor=THROTTLE_ACTOR)
        return None

    async def _take_slot(self, attempt: Attempt) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent)
            self._strangers = asyncio.Semaphore(max(1, self.max_concurrent - 1))
        if not attempt.known:
            # `locked()` is also true while others wait, so a stranger never jumps the queue of known pairs.
            if self._strangers.locked() or self._slots.locked():
                raise SignInRefused(503, "too many sign-ins at once; try again in a moment", 1)
            await self._strangers.acquire()  # both free: neither call waits
            await self._slots.acquire()
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait_seconds)
        except TimeoutError:
            raise SignInRefused(503, "too many sign-ins at once; try again in a moment", 1) from None


def _lowest_cpu_priority() -> None:
    # Linux keeps a nice value per thread, and the threads Argon2 starts for its lanes inherit it.
    if sys.platform == "linux":
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:  # not allowed here: the check just runs at the usual priority
            pass


def _too_soon(refusal: Refusal) -> SignInRefused:
    if refusal.locked_out:
        detail = (f"sign-in is locked for this account or address after repeated wrong passwords; try again in "
                  f"{refusal.retry_after} s")
    else:
        detail = f"too many wrong passwords; wait {refusal.retry_after} s before trying again"
    return SignInRefused(429, detail, refusal.retry_after)
