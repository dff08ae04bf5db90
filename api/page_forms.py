"""The pages' forms: from the workflow table to inputs, and from form strings back to field values.

An action's form is built from the same table the service checks, so a page never offers a
field the action does not take; what the strings mean is parsed here, at the edge, and a string
that is not a value becomes a `ValidationFailed` on its field, shown beside its input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Sequence

from api.page_display import is_long_text, linked_fields, item_label, label_for
from domain.actor import Actor
from domain.application import SecretariatApplication
from domain.registry import WORKFLOW_ITEMS
from domain.waiting import holder_roles
from domain.errors import DomainError, ValidationFailed
from domain.workflow import Action, Field, Workflow
from projections.queries import ReadModels


@dataclass(frozen=True)
class Input:
    id: str
    name: str
    label: str
    kind: str  # text | textarea | select | bool | date | decimal | integer | list
    required: bool
    value: str
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    max_length: int = 2000
    error: str = ""


@dataclass(frozen=True)
class ActionForm:
    action: Action
    label: str
    url: str
    inputs: list[Input]
    reason: str  # "required", "optional" or "" (the creating action takes none here)
    reason_value: str
    reason_error: str


def action_form(read_models: ReadModels, actor: Actor, workflow: Workflow, action: Action,
                given: Mapping[str, str], error: DomainError | None, *, url: str,
                people: Sequence[str] = ()) -> ActionForm:
    """The action's form; a field naming a user (a task's assignee) is chosen from `people`, those who may take it."""
    wrong = error.field if isinstance(error, ValidationFailed) else None
    user_fields = WORKFLOW_ITEMS.by_collection(workflow.collection).user_fields
    inputs = []
    for name in action.fields:
        spec = workflow.field_by_name[name]
        kind, choices = _input_kind(spec), tuple((c, c) for c in spec.choices)
        if name in linked_fields() and spec.type is str:
            choices = _active_items(read_models, actor, linked_fields()[name])
            kind = "select" if choices else kind
        elif name in user_fields and people:
            chosen = given.get(name, "")  # a name given that is not among them stays choosable, so it is not lost
            choices = tuple((p, p) for p in sorted({*people, *([chosen] if chosen else [])}))
            kind = "select"
        help_text = " ".join(t for t in (spec.description and spec.description.rstrip(".") + ".",
                                         "Separate them with commas." if spec.type is list else "") if t)
        inputs.append(Input(
            id=f"{action.name}-{name}", name=name, label=label_for(name), kind=kind,
            required=name in action.requires or (action.creates and spec.required), value=given.get(name, ""),
            help=help_text, choices=choices, max_length=spec.max_length, error=error.detail if wrong == name else ""))
    reason = "required" if action.reason_required else ("" if action.creates else "optional")
    return ActionForm(action=action, label=label_for(action.name), url=url, inputs=inputs, reason=reason,
                      reason_value=given.get("reason", ""), reason_error=error.detail if wrong == "reason" else "")


def people_who_may_take(service: SecretariatApplication, workflow: Workflow) -> list[str]:
    """The active users holding a role the workflow's actions grant: whom its items may be given to."""
    return service.usernames_holding(holder_roles(workflow))


def _active_items(read_models: ReadModels, actor: Actor, collection: str) -> tuple[tuple[str, str], ...]:
    """The items still active in a collection, to choose one from; none if the user may not list them."""
    try:
        items, _ = read_models.list_items(collection, actor, {}, limit=500)
    except DomainError:
        return ()
    return tuple((str(i.id), item_label(i)) for i in items if not i.is_closed)


def _input_kind(spec: Field) -> str:
    if spec.choices:
        return "select"
    if spec.type is str:
        return "textarea" if is_long_text(spec) else "text"
    return {bool: "bool", date: "date", Decimal: "decimal", int: "integer", list: "list"}[spec.type]


def form_values(workflow: Workflow, action: Action, form: Mapping[str, str]) -> dict[str, Any]:
    """The action's fields from the form's strings; an empty input is a field not given."""
    values = {}
    for name in action.fields:
        raw = form.get(name, "").strip()
        if raw:
            values[name] = _parsed(workflow.field_by_name[name], raw)
    return values


def _parsed(spec: Field, raw: str) -> Any:
    label = label_for(spec.name)
    if spec.type is date:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValidationFailed(spec.name, f"{label} must be a date written YYYY-MM-DD") from None
    if spec.type is bool:
        if raw not in ("yes", "no"):
            raise ValidationFailed(spec.name, f"{label} must be yes or no")
        return raw == "yes"
    if spec.type is Decimal:
        try:
            number = Decimal(raw)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValidationFailed(spec.name, f"{label} must be a number, e.g. 12000.50")
        return number
    if spec.type is int:
        if not raw.lstrip("-").isdigit() or len(raw) > 12:
            raise ValidationFailed(spec.name, f"{label} must be a whole number")
        return int(raw)
    if spec.type is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw
