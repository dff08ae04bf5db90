"""The OpenAPI document a generated client can trust: every status each operation can answer, documented.

Routes say what they return when all goes well; the errors are the same everywhere and follow
from what an operation takes, so they are derived here, from the operation as FastAPI documents
it, rather than written beside every route (where a new route would forget them):

| the operation                            | may answer                          |
|------------------------------------------|-------------------------------------|
| any                                      | 503 (busy store, time limit, full disk), with Retry-After |
| needs a bearer token, or takes a password | 401, and 429 with Retry-After (throttles) |
| needs a bearer token                     | 403                                 |
| has a path parameter                     | 404                                 |
| takes parameters or a body               | 422                                 |
| takes a body                             | 400, 413, 415                       |
| changes something (not GET), signed in   | 409                                 |
| takes If-Match                           | 412                                 |

Every error is an RFC 9457 problem document (`application/problem+json`, api/problems.py).
A status a route declares itself keeps its description and gets the problem schema.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from fastapi import FastAPI

from api.openapi_links import add_links
from api.problems import PROBLEM
from api.schemas import Problem

WHY = {
    400: "The body could not be parsed",
    401: "No valid credentials: sign in at POST /auth/token",
    403: "Your role may not do this",
    404: "No such thing, or nothing you may know of",
    409: "The item's state, a business rule or a concurrent change refuses this",
    412: "If-Match names a version the item is no longer at",
    413: "The body is larger than 1 MiB",
    415: "The body's Content-Type is not one this operation takes",
    422: "A parameter or the body is invalid: `errors` names each field",
    429: "Too many requests (or failed sign-ins) for now: try again after Retry-After seconds",
    503: "Temporarily unavailable (a busy store, a time limit, a full disk): try again after Retry-After seconds",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again",
                                "schema": {"type": "integer", "minimum": 0}}}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "How to authenticate: `Bearer`",
                                          "schema": {"type": "string"}}}
HEADERS = {401: _WWW_AUTHENTICATE, 429: _RETRY_AFTER, 503: _RETRY_AFTER}
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def document_every_answer(app: FastAPI) -> None:
    """Make `app.openapi()` (and /openapi.json) list, for every operation, each error status it can answer."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_every_answer(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_every_answer(document: dict[str, Any]) -> dict[str, Any]:
    """The document with each operation's error statuses, the problem schema, and links between operations."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            declared = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
            for status in sorted(set(statuses_of(method, operation, schemas)) | declared):
                _document_problem(responses, status)
    for name in _FASTAPI_VALIDATION:  # FastAPI's own 422 shape, which we never answer
        if f'"#/components/schemas/{name}"' not in json.dumps(document.get("paths")):
            schemas.pop(name, None)
    add_links(document)
    return document


def statuses_of(method: str, operation: dict[str, Any], schemas: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer, from what it takes (the table above)."""
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    signed_in = bool(operation.get("security"))
    identifies = signed_in or _takes_password(body, schemas)
    rules = {
        400: body is not None,
        401: identifies,
        403: signed_in,
        404: any(p["in"] == "path" for p in parameters),
        409: signed_in and method != "get",
        412: any(p["in"] == "header" and p["name"].lower() == "if-match" for p in parameters),
        413: body is not None,
        415: body is not None,
        422: bool(parameters) or body is not None,
        429: identifies,
        503: True,
    }
    return [status for status, applies in rules.items() if applies]


def _document_problem(responses: dict[str, Any], status: int) -> None:
    declared = responses.get(str(status), {})
    description = declared.get("description")
    if not description or description == "Validation Error":  # FastAPI's default for 422
        description = WHY.get(status, "Error")
    responses[str(status)] = {
        "description": description,
        **({"headers": HEADERS[status]} if status in HEADERS else {}),
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _takes_password(body: dict[str, Any] | None, schemas: dict[str, Any]) -> bool:
    for media in (body or {}).get("content", {}).values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if "password" in schema.get("properties", {}):
            return True
    return False
