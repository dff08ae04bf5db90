"""How the pages show items: labels, table rows and columns, field rows, links and values.

All of it is derived from the workflow tables, so a new field or state shows without a change
here; only the few names a table cannot spell well are given a label of their own.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from domain.actor import Actor
from domain.application import WORKFLOWS, SecretariatApplication
from domain.errors import DomainError
from domain.item import WorkflowItem
from domain.workflow import RELATION_ROLE, Field, Workflow

# Field values that name other items, shown as links to them.
LINKED_FIELDS = {"mandate_id": "mandates", "tasks": "tasks", "meeting_id": "meetings"}
LABELS = {"amount_eur": "Amount (EUR)", "mandate_id": "Mandate", "tasks": "Linked tasks", "meeting_id": "Meeting"}


def label_for(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def is_long_text(spec: Field) -> bool:
    """Text too long for one line: entered in a textarea, shown on a row of its own."""
    return not spec.choices and spec.type is str and spec.max_length > 300


def item_label(item: WorkflowItem) -> str:
    text = item.fields.get("title") or item.fields.get("description") or f"{item.workflow.title} {item.id}"
    return text if len(text) <= 90 else text[:89].rstrip() + "…"


def item_row(item: WorkflowItem) -> dict[str, Any]:
    return {"id": str(item.id), "url": f"/ui/{item.workflow.collection}/{item.id}", "label": item_label(item),
            "state": item.state, "state_kind": state_kind(item.workflow, item.state), "fields": item.fields,
            "workflow": item.workflow, "updated": item.modified_on}


def state_kind(workflow: Workflow, state: str) -> str:
    if state in workflow.terminal:
        return "final"
    return "start" if state == workflow.creating_action.target else "active"


def table_columns(workflow: Workflow) -> list[dict[str, str]]:
    """Short fields the item is created with: what tells items apart in a table."""
    names = [n for n in workflow.creating_action.fields if n not in LINKED_FIELDS]
    short = [workflow.field_by_name[n] for n in names]
    return [{"name": f.name, "label": label_for(f.name)} for f in short
            if f.type is not list and (f.type is not str or f.choices or f.max_length <= 100)]


def field_rows(service: SecretariatApplication, actor: Actor, item: WorkflowItem) -> list[dict[str, Any]]:
    """Every field of the workflow, then what the item keeps besides (derived dates, linked items)."""
    workflow = item.workflow
    names = [f.name for f in workflow.fields] + [n for n in item.fields if n not in workflow.field_by_name]
    rows = []
    for name in names:
        spec = workflow.field_by_name.get(name)
        value = item.fields.get(name)
        if value in (None, "", [], {}) and name not in workflow.creating_action.fields:
            continue  # a field later actions fill in (a result, a report) shows once it is given
        links = linked_items(service, actor, LINKED_FIELDS[name], value) if name in LINKED_FIELDS and value else None
        rows.append({"name": name, "label": label_for(name), "value": value, "links": links,
                     "long": bool(spec and is_long_text(spec))})
    return sorted(rows, key=lambda row: row["long"])  # short fields side by side, then the texts


def linked_items(service: SecretariatApplication, actor: Actor, collection: str, value: Any) -> list[dict[str, str]]:
    """Links to the items a field names, labelled when this user may read them."""
    ids = {value: ""} if isinstance(value, str) else dict(value)
    links = []
    for item_id, note in ids.items():
        try:
            label = item_label(service.get_item(collection, item_id, actor))
        except DomainError:
            label = item_id
        links.append({"url": f"/ui/{collection}/{item_id}", "label": label, "note": note})
    return links


def may_create(actor: Actor, workflow: Workflow) -> bool:
    """Whether the actor's roles could take the creating action (a relation counts through its role)."""
    return any(actor.has_role(RELATION_ROLE.get(g, g)) for g in workflow.creating_action.who)


def creatable_from(actor: Actor, item: WorkflowItem) -> list[dict[str, str]]:
    """Links to create items that name this one (e.g. a task for this mandate), while it is active."""
    if item.is_closed:
        return []
    links = []
    for field_name, target in LINKED_FIELDS.items():
        for workflow in WORKFLOWS.values():
            if (target == item.workflow.collection and field_name in workflow.creating_action.fields
                    and may_create(actor, workflow)):
                links.append({"url": f"/ui/{workflow.collection}/new?{field_name}={item.id}",
                              "label": f"New {workflow.title.lower()} for this {item.workflow.title.lower()}"})
    return links


def shown_value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shown_value(v)}" for k, v in value.items())
    return str(value)


def local_time(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
