"""Bounds on what one request may cost the server: its body, its wait for a worker, its running time.

Sync routes run in AnyIO's thread pool, and a thread cannot be stopped from outside. So the
limits bound what can be bounded: a request waits for one of `in_flight` places at most
`queue_limit` seconds (then 503), and gets its answer started within `time_limit` seconds of
arriving (else 503; the work it started runs on in the background, still holding its place, so
abandoned work can never pile up beyond `in_flight`). The time limit cuts off reads only: a
write (POST, PUT, PATCH, DELETE) that has started runs to its end and answers what it did, since a
503 tells the client that nothing happened and to send it again, which would record it twice; writes
are bounded by the store's lock timeout instead. Long loops may call `check_deadline` to
stop early once nobody waits for them. The body is read (at most `max_body_bytes`, declared or
streamed) before a place is taken, so a slow upload holds no worker. Routes that take files (`large_bodies`
names them and their own limit) have their body spooled to a temporary file instead of memory.
"""

from __future__ import annotations

import asyncio
import logging
import math
import tempfile
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem

log = logging.getLogger("secretariat.api")

READS = frozenset({"GET", "HEAD", "OPTIONS"})  # what the time limit may cut off: nothing is written by them

# When the request this code runs for must have its answer started (monotonic seconds), and its limits.
_deadline: ContextVar[tuple[float, RequestLimits] | None] = ContextVar("request_deadline", default=None)


@dataclass(frozen=True)
class RequestLimits:
    """What one request may cost (settings: SECRETARIAT_REQUEST_TIME_LIMIT and the ones beside it)."""

    time_limit: float = 30.0  # seconds from arrival until the answer starts
    queue_limit: float = 10.0  # seconds a request may wait for one of the in-flight places
    in_flight: int = 32  # requests worked on at once; under AnyIO's 40 threads, so sync routes never queue there
    expensive_per_user: int = 2  # expensive reads (api/expensive.py) one user may have running at once
    expensive_total: int = 4  # ... and everybody together
    max_body_bytes: int = 1 << 20

    @property
    def retry_after(self) -> str:
        """Seconds after which whatever runs now has been answered (a Retry-After value)."""
        return str(max(1, math.ceil(self.time_limit)))


def _past_time_limit(limits: RequestLimits) -> str:
    return f"the request did not finish within the time limit of {limits.time_limit:g} s; try again later, " \
           f"or ask for less"


class RequestTimedOut(HTTPException):
    """Raised by `check_deadline` in work whose request is past its time limit: a 503 like the middleware's."""

    def __init__(self, limits: RequestLimits) -> None:
        super().__init__(503, _past_time_limit(limits), headers={"Retry-After": limits.retry_after})


def check_deadline(*_progress: Any) -> None:
    """Stop work whose request is past its time limit (fits as a progress callback of long loops)."""
    current = _deadline.get()
    if current is not None and time.monotonic() > current[0]:
        raise RequestTimedOut(current[1])


def time_limit_problem(limits: RequestLimits):
    return problem(503, "time-limit", "Service unavailable", _past_time_limit(limits),
                   headers={"Retry-After": limits.retry_after})


class RequestLimiter:
    """Pure ASGI middleware applying `RequestLimits` to every HTTP request."""

    def __init__(self, app: ASGIApp, limits: RequestLimits,
                 large_bodies: Callable[[str, str], int | None] | None = None) -> None:
        self.app = app
        self.limits = limits
        self.large_bodies = large_bodies  # (method, path) -> the body that route may take, or None: the usual limit
        self._places = asyncio.Semaphore(limits.in_flight)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.limits.time_limit
        large = self.large_bodies(scope["method"], scope["path"]) if self.large_bodies else None
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) if large else None
        try:
            await self._limited(scope, receive, send, deadline, large, spool)
        finally:
            if spool is not None:
                spool.close()

    async def _limited(self, scope: Scope, receive: Receive, send: Send, deadline: float, large: int | None,
                       spool: Any) -> None:
        limit = large or self.limits.max_body_bytes
        try:
            body = await (self._spool_body(scope, receive, deadline, large, spool) if large
                          else self._read_body(scope, receive, deadline))
        except TimeoutError:
            await time_limit_problem(self.limits)(scope, receive, send)
            return
        if body is None:
            await self._refuse(413, "request-too-large", "Request too large",
                               f"the body is larger than {limit} bytes", scope, receive, send)
            return
        replay = body if large else _replaying(body, receive)
        try:
            if self._places.locked():  # else a place is free now: no timer needed (the common case)
                async with asyncio.timeout(min(self.limits.queue_limit, max(0.0, deadline - time.monotonic()))):
                    await self._places.acquire()
            else:
                await self._places.acquire()
        except TimeoutError:
            await self._refuse(503, "busy", "Service unavailable", "the server is busy with other requests; "
                               "try again later", scope, receive, send, retry=True)
            return
        if scope["method"] in READS:
            await self._run_within(deadline, scope, replay, send)
            return
        try:  # a write: its answer must say whether it happened, so it is never cut off (see the docstring)
            await self.app(scope, replay, send)
        finally:
            self._places.release()

    async def _run_within(self, deadline: float, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app inline; if its answer has not started by the deadline, a timer answers 503 instead.

        Inline rather than in a task of its own: the common case then costs one timer, not the
        extra turns of the event loop a task and its waiter take. The app's late messages go nowhere.
        """
        loop = asyncio.get_running_loop()
        started = False
        answering: asyncio.Task | None = None

        async def send_unless_answered(message: Message) -> None:
            nonlocal started
            if answering is not None:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        def at_deadline() -> None:
            nonlocal answering
            if not started:
                answering = loop.create_task(time_limit_problem(self.limits)(scope, receive, send))

        timer = loop.call_at(loop.time() + deadline - time.monotonic(), at_deadline)
        token = _deadline.set((deadline, self.limits))  # threads the app hands work to copy this context
        try:
            await self.app(scope, receive, send_unless_answered)
        except Exception:
            if answering is None:
                raise
            log.exception("a request answered 503 at its time limit then failed")
        finally:
            timer.cancel()
            _deadline.reset(token)
            self._places.release()  # only now: abandoned work keeps its place until it has really ended
            if answering is not None:
                await answering

    async def _read_body(self, scope: Scope, receive: Receive, deadline: float) -> list[Message] | None:
        """The request's body messages, or None if it is over the limit (declared or counted)."""
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limits.max_body_bytes):
            return None
        if (length is None or length == b"0") and b"transfer-encoding" not in headers:
            return [await receive()]  # no body: the server has its one empty message ready, no timer needed
        messages, size, more = [], 0, True
        async with asyncio.timeout_at(asyncio.get_running_loop().time() + deadline - time.monotonic()):
            while more:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break  # the client went away: the application hears it as it would have
                size += len(message.get("body", b""))
                more = message.get("more_body", False)
                if size > self.limits.max_body_bytes:
                    return None
        return messages

    async def _spool_body(self, scope: Scope, receive: Receive, deadline: float, limit: int,
                          spool: Any) -> Receive | None:
        """As `_read_body` with `limit`, the body going to `spool` (memory, then a temporary file) rather than
        memory alone; the `receive` that gives it again, or None if it is over the limit."""
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return None
        size, more, last = 0, True, None
        async with asyncio.timeout_at(asyncio.get_running_loop().time() + deadline - time.monotonic()):
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    last = message  # the client went away: the application hears it as it would have
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return None
                spool.write(chunk)
                more = message.get("more_body", False)
        spool.seek(0)
        return _replaying_file(spool, last, receive)

    async def _refuse(self, status: int, slug: str, title: str, detail: str, scope: Scope, receive: Receive,
                      send: Send, *, retry: bool = False) -> None:
        headers = {"Retry-After": self.limits.retry_after} if retry else None
        await problem(status, slug, title, detail, headers=headers)(scope, receive, send)


SPOOL_IN_MEMORY = 1 << 20  # a large body stays in memory up to this, then goes to a temporary file
REPLAY_CHUNK = 64 * 1024


def _replaying_file(spool: Any, last: Message | None, receive: Receive) -> Receive:
    """A `receive` that gives a spooled body in chunks (then `last`, if the client went away), then what comes next."""
    done = False

    async def replay() -> Message:
        nonlocal done, last
        if not done:
            chunk = spool.read(REPLAY_CHUNK)
            more = len(chunk) == REPLAY_CHUNK
            done = not more
            if done and last is not None:
                return {"type": "http.request", "body": chunk, "more_body": True}
            return {"type": "http.request", "body": chunk, "more_body": more}
        if last is not None:
            message, last = last, None
            return message
        return await receive()

    return replay


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives the body messages read already, then whatever comes next."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
