"""Which methods a path takes: HEAD wherever GET is, and a 405 whose `Allow` header names them all.

Starlette's 405 lists only the methods of the first route whose path matched, so a path served
by several routes (`GET /tasks` and `POST /tasks`, `PUT` and `DELETE /calendar/closures/{day}`)
told a client only part of the truth; and FastAPI's GET routes refused HEAD.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem

PROBED = ("GET", "POST", "PUT", "PATCH", "DELETE")  # HEAD follows GET; OPTIONS is not served


def install_allowed_methods(app: FastAPI) -> None:
    """Answer HEAD like GET without the body, and name every allowed method in a 405's `Allow` header."""
    app.add_middleware(HeadAsGet)

    @app.exception_handler(405)
    async def method_not_allowed(request: Request, _error: HTTPException) -> JSONResponse:
        allowed = allowed_methods(request.app, request.scope)
        return problem(405, "method-not-allowed", "Method not allowed",
                       f"{request.method} is not allowed here; this path takes {', '.join(allowed)}",
                       headers={"Allow": ", ".join(allowed)})


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route takes at this request's path, with HEAD wherever GET is.

    Each method is tried against the routes as the router itself would (their public `matches`),
    on a scope of its own, so routers included in routers are searched too.
    """
    allowed = set()
    for method in PROBED:
        probe = {"type": "http", "method": method, "path": scope["path"], "root_path": scope.get("root_path", ""),
                 "headers": [], "query_string": b""}
        if any(route.matches(probe)[0] is Match.FULL for route in app.router.routes):
            allowed.add(method)
    if "GET" in allowed:
        allowed.add("HEAD")
    return sorted(allowed)


class HeadAsGet:
    """HEAD runs the GET route and sends its status and headers only (RFC 9110, section 9.3.2)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
