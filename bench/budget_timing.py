"""The command budget's timers: CPU time per part of a request (`PartClock`) and the wrappers that put
functions of a part under it (`Wrapping`). See command_budget.py for how parts are counted."""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections import defaultdict
from typing import Any


class PartClock:
    """Thread CPU time by part, exclusive: the innermost part running in a thread gets the time."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.per_thread: dict[int, float] = defaultdict(float)  # time given to parts, by thread ident
        self.calls: dict[str, int] = defaultdict(int)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.on = False

    def enter(self, part: str) -> None:
        now, local = time.thread_time(), self._local
        stack = getattr(local, "stack", None)
        if stack is None:
            stack = local.stack = []
        if stack:
            self._add(stack[-1], now - local.mark)
        stack.append(part)
        local.mark = now

    def leave(self) -> None:
        now, local = time.thread_time(), self._local
        self._add(local.stack.pop(), now - local.mark)
        local.mark = now

    def _add(self, part: str, seconds: float) -> None:
        if not self.on:
            return
        with self._lock:
            self.totals[part] += seconds
            self.per_thread[threading.get_ident()] += seconds

    def reset(self) -> None:
        with self._lock:
            self.totals.clear()
            self.per_thread.clear()
            self.calls.clear()

    def count(self, part: str) -> None:
        if self.on:
            self.calls[part] += 1


class Wrapping:
    """Wraps functions and methods in place with a PartClock part; `undo` puts the originals back."""

    def __init__(self, clock: PartClock) -> None:
        self.clock = clock
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, name: str, part: str, *, http_only: bool = False) -> None:
        """Time `owner.name` as `part`; with `http_only`, an ASGI callable's calls for HTTP requests only (its
        lifespan call lasts as long as the server: counted, it would sit under every request's time)."""
        original = inspect.getattr_static(owner, name)
        function, rewrap = original, lambda f: f
        if isinstance(original, (classmethod, staticmethod)):
            function, rewrap = original.__func__, type(original)
        clock = self.clock
        if inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(getattr(function, "__call__", None)):
            async def timed(*args: Any, **kwargs: Any) -> Any:
                if http_only and _scope_type(args) != "http":
                    return await function(*args, **kwargs)
                clock.enter(part)
                try:
                    return await function(*args, **kwargs)
                finally:
                    clock.leave()
        else:
            def timed(*args: Any, **kwargs: Any) -> Any:
                clock.enter(part)
                try:
                    return function(*args, **kwargs)
                finally:
                    clock.leave()
        try:
            functools.update_wrapper(timed, function)
        except AttributeError:
            pass  # a callable object: nothing to copy
        setattr(owner, name, rewrap(timed))
        self._undo.append((owner, name, original))

    def wrap_router(self, app: Any) -> None:
        """Time the app's router as "routing": its match over the routes (the route's own work is other parts').

        The router keeps its `app` as `middleware_stack` when built, so the instance's is wrapped."""
        self.wrap(app.router, "middleware_stack", "routing", http_only=True)

    def undo(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()


def _scope_type(args: tuple) -> str | None:
    scope = next((a for a in args if isinstance(a, dict)), None)
    return scope.get("type") if scope is not None else None

