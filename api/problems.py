"""Every error becomes an RFC 9457 problem document here, and only here."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import answer_401_before_422
from domain.errors import (Conflict, DomainError, Forbidden, InvalidTransition, NotFound, PreconditionFailed,
                           RuleBroken, ValidationFailed)
from projections.store_errors import STORE_ERRORS, StoreTrouble, store_trouble

log = logging.getLogger("secretariat.api")

PROBLEM = "application/problem+json"

# error class -> (status, slug, title)
_DOMAIN: dict[type[DomainError], tuple[int, str, str]] = {
    NotFound: (404, "not-found", "Not found"),
    Forbidden: (403, "forbidden", "Forbidden"),
    InvalidTransition: (409, "invalid-transition", "Action not allowed in this state"),
    RuleBroken: (409, "rule-broken", "A business rule refuses this"),
    Conflict: (409, "conflict", "Conflict"),
    PreconditionFailed: (412, "precondition-failed", "The item has changed"),
    ValidationFailed: (422, "validation-failed", "Invalid input"),
}

_HTTP_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
                405: "Method not allowed", 413: "Request too large", 415: "Unsupported media type",
                429: "Too many requests", 503: "Service unavailable"}


def status_and_title(error: DomainError) -> tuple[int, str]:
    """The HTTP status and title a domain error maps to (the pages use it too)."""
    status, _slug, title = next(v for cls, v in _DOMAIN.items() if isinstance(error, cls))
    return status, title


def problem(status: int, slug: str, title: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    body = {"type": f"urn:secretariat:problem:{slug}", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: DomainError) -> JSONResponse:
        status, slug, title = next(v for cls, v in _DOMAIN.items() if isinstance(error, cls))
        extra = {"errors": [{"field": error.field, "detail": error.detail}]} if isinstance(error, ValidationFailed) else {}
        return problem(status, slug, title, error.detail, **extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        try:
            await answer_401_before_422(request)  # routes that check the user after validating: see api/deps.py
        except StarletteHTTPException as not_signed_in:
            return await http_error(request, not_signed_in)
        if (media_type := _unsupported_media_type(request)) is not None:
            return problem(415, "unsupported-media-type", "Unsupported media type",
                           f"this route takes {media_type}, not {request.headers['content-type']}")
        errors = []
        for e in error.errors():
            if tuple(e["loc"]) == ("body",) and e["type"] == "missing":
                # No body at all: name the fields it needs, as if an empty object had been sent.
                errors += [{"field": name, "detail": "Field required"} for name in _required_body_fields(request)]
            else:
                errors.append({"field": _field_name(e["loc"]), "detail": e["msg"]})
        detail = "; ".join(f"{e['field']}: {e['detail']}" for e in errors)
        return problem(422, "validation-failed", "Invalid input", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        title = _HTTP_TITLES.get(error.status_code, "Error")
        detail = error.detail if isinstance(error.detail, str) else title
        return problem(error.status_code, title.lower().replace(" ", "-"), title, detail,
                       headers=getattr(error, "headers", None))

    async def store_error(request: Request, error: Exception) -> JSONResponse:
        # Busy or full: nothing of the request was written, and it may be sent again later.
        trouble = store_trouble(error)
        if trouble is StoreTrouble.DISK_FULL:
            request.app.state.disk.write_refused()
            log.error("a write found the disk full: %s", error)
            return problem(503, "disk-full", "Disk full", "the store's disk is full; nothing of this request was "
                           "written; try again once space is freed", headers={"Retry-After": "30"})
        if trouble is StoreTrouble.BUSY:
            log.warning("the store was busy: %s", error)
            return problem(503, "store-busy", "Store busy", "the store was too busy to take this in time; nothing of "
                           "it was written; send it again", headers={"Retry-After": "1"})
        return await unexpected(request, error)

    for error_class in STORE_ERRORS:
        app.add_exception_handler(error_class, store_error)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> JSONResponse:
        # A fault of ours, not the client's: logged with its trace, answered without internals.
        log.exception("unexpected error", exc_info=error)
        return problem(500, "internal", "Internal error", "something went wrong on our side; it has been logged")


def _field_name(location: tuple) -> str:
    """`("body", "due")` -> `due`; `("query", "limit")` -> `limit`; a body that is not JSON -> `body`."""
    names = [str(p) for p in location[1:] if not isinstance(p, int)] if len(location) > 1 else []
    return ".".join(names) or (str(location[0]) if location else "body")


def _unsupported_media_type(request: Request) -> str | None:
    """The media type the route takes, if the request sent its body as another (checked only once it failed)."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body_field is None or not sent:
        return None
    if getattr(body_field.field_info, "media_type", "application/json") == "application/json":
        return None if sent == "application/json" or sent.endswith("+json") else "application/json"
    return None if sent in ("application/x-www-form-urlencoded", "multipart/form-data") else \
        "application/x-www-form-urlencoded"


def _required_body_fields(request: Request) -> list[str]:
    body_field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(body_field, "field_info", None), "annotation", None)
    fields = getattr(model, "model_fields", {})
    return [name for name, info in fields.items() if info.is_required()] or ["body"]
