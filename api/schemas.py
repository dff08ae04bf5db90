"""Pydantic models at the edge, generated from the workflow tables (never a second copy).

`TaskCreate`, `TaskStartBody`, `TaskPublic`, ... are built from each workflow's fields
and actions, so OpenAPI shows exactly what each route takes and returns.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints, WithJsonSchema,
                      create_model)

from domain.workflow import Action, Field as DomainField, Workflow

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    """Dates come as `YYYY-MM-DD` strings: numbers and date-times are refused, not guessed at."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def _json_number_only(value: Any) -> Any:
    """Money comes as a JSON number, as it is served: a string ("12000") is refused, not guessed at."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError("must be a JSON number of euros, e.g. 12000.50")
    return value


MAX_EUROS = Decimal("999999999999.99")  # 14 digits, 2 of them cents: exact in a double, so a JSON number


def _money(gt: int | None) -> Any:
    """Euros as a JSON number in requests, answers and this schema alike (see the README's "Money").

    `gt` is the domain Field's exclusive lower bound, if it declares one: the schema says it too."""
    lower = {"minimum": -float(MAX_EUROS)} if gt is None else {"exclusiveMinimum": gt}
    return Annotated[Decimal, BeforeValidator(_json_number_only),
                     Field(max_digits=14, decimal_places=2, allow_inf_nan=False, gt=gt),
                     WithJsonSchema({"type": "number", "maximum": float(MAX_EUROS), **lower,
                                     "description": "Euros, at most two decimal places"})]


def _edge_type(spec: DomainField) -> Any:
    if spec.choices:
        return Literal[spec.choices]
    if spec.type is str:
        return Annotated[str, StringConstraints(strict=True, max_length=spec.max_length)]
    if spec.type is bool:
        return StrictBool
    if spec.type is int:
        return Annotated[int, Field(strict=True, gt=spec.gt, le=spec.le)]
    if spec.type is date:
        return IsoDate
    if spec.type is Decimal:
        return _money(spec.gt)
    if spec.type is list:
        item = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=300)]
        return Annotated[list[item], Field(max_length=100)]
    raise TypeError(spec.type)


Reason = Annotated[str, StringConstraints(strict=True, max_length=5000)]


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[_\-\s]", name))


def body_model(workflow: Workflow, action: Action) -> type[BaseModel]:
    """The request body of one action: its fields, and a reason (required where the table says)."""
    fields: dict[str, Any] = {}
    for name in action.fields:
        spec = workflow.field_by_name[name]
        required = name in action.requires or (action.creates and spec.required)
        annotation = _edge_type(spec)
        fields[name] = (annotation, Field(..., description=spec.description)) if required else (
            Optional[annotation], Field(None, description=spec.description))
    reason_field = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=5000)]
    fields["reason"] = (reason_field, Field(..., description="Why (required)")) if action.reason_required else (
        Optional[Reason], Field(None, description="Why (optional)"))
    suffix = "Create" if action.creates else f"{_pascal(action.name)}Body"
    return create_model(f"{_pascal(workflow.name)}{suffix}", __config__=ConfigDict(extra="forbid"),
                        __doc__=action.description or f"Body of {workflow.name}.{action.name}", **fields)


class Deadline(BaseModel):
    kind: str
    due: date
    open: bool
    addressed_to: list[str] = Field(..., description="Who its reminders go to: user:NAME or role:ROLE "
                                                     "(escalations go to role:head)")
    last_reminder: Optional[str] = Field(..., description="The last rung raised on its current ladder: upcoming, "
                                                          "due_soon, overdue or escalated")


class BlockedAction(BaseModel):
    action: str
    reason: str = Field(..., description="What stands in the way, in plain words")
    fix: str = Field(..., description="What to do about it, in plain words")


def public_model(workflow: Workflow) -> type[BaseModel]:
    """The item as the API returns it."""
    fields: dict[str, Any] = {
        "id": (str, ...),
        "version": (int, ...),
        "state": (Literal[workflow.states], ...),
        "allowed_actions": (list[str], Field(..., description="What the caller may do with the item now, "
                                                              "its rules met")),
        "blocked_actions": (list[BlockedAction], Field(..., description="What the caller's role may do in this "
                                                                        "state but a rule stands in the way of")),
    }
    for spec in workflow.fields:
        fields[spec.name] = (Optional[_edge_type(spec)], None)
    fields.update(created_at=(datetime, ...), updated_at=(datetime, ...), deadlines=(list[Deadline], ...))
    return create_model(f"{_pascal(workflow.name)}Public", __config__=ConfigDict(extra="allow"), **fields)


def page_model(workflow: Workflow, item: type[BaseModel]) -> type[BaseModel]:
    return create_model(f"{_pascal(workflow.name)}Page", items=(list[item], ...), total=(int, ...))


class HistoryEvent(BaseModel):
    version: int
    type: str
    at: datetime = Field(description="When the event was recorded")
    occurred_at: datetime = Field(description="When what it records happened: `at`, but for an import of "
                                              "past records")
    actor: str
    reason: str | None
    data: dict[str, Any]
    state_before: str | None
    state_after: str


class History(BaseModel):
    events: list[HistoryEvent]


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Health(BaseModel):
    status: str
    store: str
    projection_lag: int  # events the furthest-behind view lags the log
    views: dict[str, int]  # the lag of each view
