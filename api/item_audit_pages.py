"""An item through time, for auditors (and any reader of it): two versions compared, and the item as it
was at the end of a day.

Both replay the item's events through the service with the signed-in actor (`get_item` with a
version or an instant), so they show no more than the item's history already shows that reader:
an item the actor may not read answers exactly as one that does not exist. Nothing here writes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.back_office import error_page, parse_day, render, start_of
from api.deps import Service
from api.expensive import expensive_read
from api.history_display import event_label
from api.page_display import OWN_SECTIONS, field_rows, item_row, label_for, state_kind
from api.page_session import PageActor, page_actor
from api.pages import page_workflow
from api.params import MAX_VERSION
from domain.errors import DomainError, ValidationFailed
from domain.item import WorkflowItem

router = APIRouter(include_in_schema=False)
REPLAYS = [expensive_read(page_actor)]


@router.get("/ui/{collection}/{item_id}/diff", dependencies=REPLAYS)
def diff_page(request: Request, collection: str, item_id: str, service: Service, actor: PageActor,
              from_: Annotated[str, Query(alias="from")] = "", to: str = ""):
    """What changed between two versions of the item: its state and each field, and the events between."""
    try:
        workflow = page_workflow(collection)
        current = service.get_item(collection, item_id, actor)
        older = _version("from", from_, default=max(1, current.version - 1))
        newer = _version("to", to, default=current.version)
        if older > newer:
            older, newer = newer, older
        before = service.get_item(collection, item_id, actor, version=older)
        after = service.get_item(collection, item_id, actor, version=newer)
        events = [{**e, "label": event_label(e["type"])}
                  for e in service.history(collection, item_id, actor) if older < e["version"] <= newer]
    except DomainError as error:
        return error_page(request, actor, error, section=collection)
    return render(request, "item_diff.html", actor, section=collection, workflow=workflow, item=current,
                  row=item_row(current), older=older, newer=newer, changes=_changes(before, after),
                  events=events, tz=service.tz)


@router.get("/ui/{collection}/{item_id}/as-of", dependencies=REPLAYS)
def as_of_page(request: Request, collection: str, item_id: str, service: Service, actor: PageActor,
               as_of: str = ""):
    """The item as it was at the end of a day (in the Secretariat's time zone), replayed from its events."""
    try:
        workflow = page_workflow(collection)
        current = service.get_item(collection, item_id, actor)
        day = parse_day("as_of", as_of)
        if day is None:
            raise ValidationFailed("as_of", "give the day to see the item on (YYYY-MM-DD)")
        # The end of that day: every event that happened on it counts (get_item takes, by `occurred_at`,
        # the events up to the instant; an item imported today reads as it was then).
        instant = start_of(day + timedelta(days=1), service.tz) - timedelta(microseconds=1)
        then = service.get_item(collection, item_id, actor, as_of=instant)
    except DomainError as error:
        return error_page(request, actor, error, section=collection)
    return render(request, "item_as_of.html", actor, section=collection, workflow=workflow, item=then,
                  row=item_row(current), day=day, fields=field_rows(service, actor, then), latest=current.version,
                  state_kind=state_kind(workflow, then.state),
                  tz=service.tz)


def _version(name: str, text: str, *, default: int) -> int:
    if text == "":
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and 1 <= int(text) <= MAX_VERSION):
        raise ValidationFailed(name, f"{name} is a version: a whole number from 1")
    return int(text)


def _changes(before: WorkflowItem, after: WorkflowItem) -> list[dict[str, Any]]:
    """The state and every field whose value differs between the two versions, in the workflow's order."""
    rows = []
    if before.state != after.state:
        rows.append({"label": "State", "before": label_for(before.state), "after": label_for(after.state)})
    order = [f.name for f in after.workflow.fields]
    # Reminders, files and comments have sections of their own: their bookkeeping is no field to compare.
    names = order + sorted((set(before.fields) | set(after.fields)) - set(order) - OWN_SECTIONS)
    for name in names:
        old, new = before.fields.get(name), after.fields.get(name)
        if old != new:
            rows.append({"label": label_for(name), "before": old, "after": new})
    return rows
