"""The item, its history and pages as JSON, with the headers API.md promises."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from domain.actor import Actor
from domain.item import WorkflowItem
from domain.personal_data import PersonalData


def _default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (UUID, PersonalData)):  # personal data: its text, or "[erased]"
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(document: Any) -> bytes:
    return json.dumps(document, default=_default, ensure_ascii=False, separators=(",", ":")).encode()


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def item_document(item: WorkflowItem, actor: Actor, *, current: bool = True) -> dict[str, Any]:
    """The item: id, version, state, what the caller may do now (and what a precondition blocks, with the fix),
    its fields, times and deadlines.

    A past version (`?version=`, `?as_of=`) offers no actions: nobody acts on the past.
    """
    document: dict[str, Any] = {
        "id": str(item.id),
        "version": item.version,
        "state": item.state,
        "allowed_actions": item.allowed_actions(actor) if current else [],
        "blocked_actions": item.blocked_actions(actor) if current else [],
    }
    document.update({spec.name: item.fields.get(spec.name) for spec in item.workflow.fields})
    document.update({k: v for k, v in item.fields.items() if k not in document})
    document.update(created_at=item.created_on, updated_at=item.modified_on, deadlines=item.deadlines())
    return document


def etag(item: WorkflowItem) -> str:
    return f'"{item.version}"'


def item_response(item: WorkflowItem, actor: Actor, *, status: int = 200, current: bool = True,
                  location: str | None = None) -> JSON:
    headers = {"ETag": etag(item)}
    if location:
        headers["Location"] = location
    return JSON(item_document(item, actor, current=current), status_code=status, headers=headers)


WAIT_FOR_PROJECTION_SECONDS = 5.0


def read_your_write(request: Request, position: int | None, response: Response) -> Response:
    """With `Prefer: wait-for-projection`, answer only once the lists and dashboards show the change."""
    if "wait-for-projection" in request.headers.get("prefer", "") and position is not None:
        if request.app.state.runner.wait_for(position, timeout=WAIT_FOR_PROJECTION_SECONDS):
            response.headers["Preference-Applied"] = "wait-for-projection"
    return response
