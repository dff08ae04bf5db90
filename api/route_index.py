"""Routing by the path's first segment: the route FastAPI's router would choose, without trying every route.

The app includes some forty routers (one per collection and capability), and the router tries
them in order, each trying its own routes: about 120 route matches for a command on a task,
0.4-0.5 ms of CPU, a sixth of the whole request's. A route can only match a path whose first
segment is the literal its own path starts with; a route whose first segment holds a parameter,
or that has no path, may match any. So a request needs to try only the routes of its first
segment and those that take any, in the router's own order: the first full match among them is
the first full match among all of them, since the others cannot match at all.

Only a full match is served here. Anything else (no route: a 404; a path whose routes take
other methods: a 405; the other slash's redirect; low-priority routes; a root path or telemetry
in the scope) goes to the router itself, which tries every route as before.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

ANY = None  # the first segment of a route that may match any path


def install_route_index(app: FastAPI) -> None:
    """Route the app's HTTP requests through a `RouteIndex` (the router calls its `middleware_stack`)."""
    app.router.middleware_stack = RouteIndex(app.router)


class RouteIndex:
    """The router's top-level routes by the first path segment they can match, in the router's order."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self.full_routing = router.app  # the router's own routing, for everything not served here
        self._built_at: Any = object()
        self._routers: list[Any] = []  # the app's router and every router it includes, however deep
        self._by_segment: dict[str, list[BaseRoute]] = {}
        self._any: list[BaseRoute] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path") or "fastapi.telemetry" in scope:
            await self.full_routing(scope, receive, send)
            return
        scope.setdefault("router", self.router)
        for route in self.candidates(scope):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self.full_routing(scope, receive, send)

    def candidates(self, scope: Scope) -> list[BaseRoute]:
        """The routes that may match the request's path, in the router's order."""
        version = self._version()
        if version != self._built_at:
            self._build()
        segment = scope["path"][1:].split("/", 1)[0]
        return self._by_segment.get(segment, self._any)

    def _version(self) -> tuple[int, ...]:
        """What changes whenever a route is added, to the app or to any router it includes (routes are only
        ever appended: adding a route or including a router appends one)."""
        return tuple(len(router.routes) for router in self._routers)

    def _build(self) -> None:
        self._routers = _routers_within(self.router)
        version = self._version()
        routes = list(self.router.routes)
        segments = [_first_segments(route) for route in routes]
        literals = {s for found in segments if found is not ANY for s in found}
        by_segment: dict[str, list[BaseRoute]] = defaultdict(list)
        any_segment: list[BaseRoute] = []
        for route, found in zip(routes, segments):
            if found is ANY:
                any_segment.append(route)
            for literal in literals:
                if found is ANY or literal in found:
                    by_segment[literal].append(route)
        self._by_segment, self._any, self._built_at = dict(by_segment), any_segment, version


def _routers_within(router: Any) -> list[Any]:
    """The router and every router it includes, however deep (each once)."""
    found: dict[int, Any] = {}
    todo = [router]
    while todo:
        current = todo.pop()
        if id(current) in found:
            continue
        found[id(current)] = current
        todo.extend(route.original_router for route in current.routes if hasattr(route, "original_router"))
    return list(found.values())


def _first_segments(route: BaseRoute) -> set[str] | None:
    """The literal first segments of every path the route (or the routers it includes) serves; ANY if one may
    match any path."""
    found: set[str] = set()
    for context in iter_route_contexts([route]):
        path = context.path
        if not isinstance(path, str) or not path.startswith("/"):
            return ANY
        segment = path[1:].split("/", 1)[0]
        if "{" in segment:
            return ANY
        found.add(segment)
    return found or ANY
