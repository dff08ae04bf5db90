"""Expensive reads (replays, as-of dashboards, the chain's verification, the calendar feed), rationed.

A route declares itself expensive with `dependencies=[expensive_read()]` (or, where only some
queries are, `expensive_read(when_given=("as_of",))`). Each user may have
`expensive_per_user` of them running at once (more: 429), and everybody together
`expensive_total` (more: 503), both with `Retry-After`. A place is held until the work has
really ended, even when the request was answered 503 at its time limit before, so one user
cannot keep more than their share of the workers busy.
"""

# No `from __future__ import annotations`: FastAPI must see the `Depends(reader)` of each closure itself.

from collections import Counter
from contextlib import contextmanager
from typing import Annotated, Any, AsyncIterator, Callable, Iterator

from fastapi import Depends, HTTPException, Request

from api.deps import current_actor
from api.limits import RequestLimits
from domain.actor import Actor


class ExpensiveReads:
    """Who runs how many expensive reads now, in this process (touched on the event loop only)."""

    def __init__(self, limits: RequestLimits) -> None:
        self.limits = limits
        self.running: Counter[str] = Counter()

    @contextmanager
    def place_for(self, username: str) -> Iterator[None]:
        limits = self.limits
        if self.running[username] >= limits.expensive_per_user:
            raise HTTPException(429, f"you have {limits.expensive_per_user} expensive reads (replays, as-of "
                                     f"dashboards, exports) running already; try again when one has finished",
                                headers={"Retry-After": limits.retry_after})
        if self.running.total() >= limits.expensive_total:
            raise HTTPException(503, "the server is busy with other expensive reads; try again later",
                                headers={"Retry-After": limits.retry_after})
        self.running[username] += 1
        try:
            yield
        finally:
            self.running[username] -= 1
            if not self.running[username]:
                del self.running[username]


async def _expensive_reads(request: Request) -> ExpensiveReads:
    return request.app.state.expensive_reads


def expensive_read(reader: Callable[..., Actor] = current_actor, *, when_given: tuple[str, ...] = ()) -> Any:
    """Marks a route as an expensive read of the user `reader` names (with `when_given`, only requests that
    give one of these query parameters)."""

    async def hold_a_place(request: Request, actor: Annotated[Actor, Depends(reader)],
                           reads: Annotated[ExpensiveReads, Depends(_expensive_reads)]) -> AsyncIterator[None]:
        if when_given and not any(name in request.query_params for name in when_given):
            yield
            return
        with reads.place_for(actor.username):
            yield

    return Depends(hold_a_place)
