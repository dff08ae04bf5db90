"""How the pages show items: labels, table rows and columns, field rows, links and values.

All of it is derived from the workflow tables, so a new field or state shows without a change
here; only the few names a table cannot spell well are given a label of their own.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from domain.actor import Actor
from domain.application import SecretariatApplication
from domain.errors import DomainError
from domain.item import WorkflowItem
from domain.item_deadlines import LADDER_STARTS
from domain.registry import WORKFLOW_ITEMS
from domain.workflow import RELATION_ROLE, Field, Workflow

# A mandate's free-text `meeting` sits beside `meeting_id`, the recorded meeting it links to ("Meeting").
LABELS = {"amount_eur": "Amount (EUR)", "decision": "Decision due", "due": "Due", "meeting": "Meeting, as written"}
# Fields an item keeps that the page shows in sections of their own (reminders, files, comments), or that are the
# reminder ladder's bookkeeping (where an imported deadline's ladder starts), not as fields.
OWN_SECTIONS = frozenset({"reminders", "attachments", "comments", LADDER_STARTS})


def linked_fields() -> dict[str, str]:
    """Field name -> the collection of the items its values name, from the workflows' links: a child's field
    naming its parent (a task's `mandate_id`), and the parent's field listing its children (a mandate's `tasks`)."""
    found = {}
    for cls, link in WORKFLOW_ITEMS.links():
        found[link.field] = link.collection
        if link.kept_in:
            found[link.kept_in] = cls.workflow.collection
    return found


def _link_labels() -> dict[str, str]:
    """A link's field reads as the item it names ("Mandate"); a parent's list as "Linked tasks"."""
    found = {}
    for cls, link in WORKFLOW_ITEMS.links():
        found[link.field] = WORKFLOW_ITEMS.workflows[link.collection].title
        if link.kept_in:
            found[link.kept_in] = f"Linked {cls.workflow.title.lower()}s"
    return found


def label_for(name: str) -> str:
    """A state, action, field or deadline kind in words: `in_review` reads "In review"."""
    return LABELS.get(name) or _link_labels().get(name) or name.replace("_", " ").capitalize()


# Choices that are abbreviations a newcomer would not know (a meeting's body).
VALUE_WORDS = {"com": "Committee of Ministers", "ewg": "Expert Working Group"}


def in_words(value: Any) -> str:
    """A choice as a person writes it (`officer_exchange` -> "officer exchange"); codes like AL stay as they are."""
    return VALUE_WORDS.get(value, str(value).replace("_", " ")) if isinstance(value, str) else str(value)


def is_long_text(spec: Field) -> bool:
    """Text too long for one line: entered in a textarea, shown on a row of its own."""
    return not spec.choices and spec.type is str and spec.max_length > 300


def item_label(item: WorkflowItem) -> str:
    text = item.label or f"{item.workflow.title} {item.id}"
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
    linked = linked_fields()
    names = [n for n in workflow.creating_action.fields if n not in linked]
    short = [workflow.field_by_name[n] for n in names]
    return [{"name": f.name, "label": label_for(f.name)} for f in short
            if f.type is not list and (f.type is not str or f.choices or f.max_length <= 100)]


def field_rows(service: SecretariatApplication, actor: Actor, item: WorkflowItem,
               titles: "ItemTitles | None" = None) -> list[dict[str, Any]]:
    """Every field of the workflow, then what the item keeps besides (derived dates, linked items)."""
    workflow = item.workflow
    names = [f.name for f in workflow.fields] + [n for n in item.fields
                                                 if n not in workflow.field_by_name and n not in OWN_SECTIONS]
    rows = []
    linked = linked_fields()
    titles = titles or ItemTitles(service, actor)
    for name in names:
        spec = workflow.field_by_name.get(name)
        value = item.fields.get(name)
        if name in OWN_SECTIONS or (value in (None, "", [], {}) and name not in workflow.creating_action.fields):
            continue  # a field later actions fill in (a result, a report) shows once it is given
        links = [titles.link(linked[name], i) for i in _ids(value)] if name in linked and value else None
        shown = in_words(value) if spec and spec.choices and isinstance(value, str) else value
        rows.append({"name": name, "label": label_for(name), "value": shown, "links": links,
                     "long": bool(spec and is_long_text(spec)) or name == "conclusions",
                     "conclusions": conclusions(titles, value) if name == "conclusions" else None})
    return sorted(rows, key=lambda row: row["long"])  # short fields side by side, then the texts


def _ids(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def conclusions(titles: "ItemTitles", value: Any) -> list[dict[str, Any]]:
    """A meeting's conclusions, numbered, each with the items made from it (by title and real state)."""
    shown = []
    for entry in sorted(value.values(), key=lambda c: c.get("number") or 0) if isinstance(value, dict) else []:
        made = [titles.link(m["collection"], m["id"]) for m in entry.get("made", []) if m.get("collection") in WORKFLOW_ITEMS.workflows]
        shown.append({"number": entry.get("number"), "text": entry.get("text", ""), "made": made,
                      "tasks_someone": entry.get("tasks_someone")})
    return shown


class ItemTitles:
    """The items a page names, each by its title and its real state, looked up once and only as far as the
    signed-in user may read them (an item they may not read is named by its kind alone, never by its id)."""

    MOST = 200  # lookups per page: a mandate with thousands of tasks still renders in bounded time

    def __init__(self, service: SecretariatApplication, actor: Actor) -> None:
        self.service, self.actor, self.found = service, actor, {}

    def link(self, collection: str, item_id: str) -> dict[str, Any]:
        key = (collection, str(item_id))
        if key not in self.found:
            self.found[key] = self._look_up(collection, str(item_id))
        return self.found[key]

    def _look_up(self, collection: str, item_id: str) -> dict[str, Any]:
        workflow = WORKFLOW_ITEMS.workflows[collection]
        unread = {"url": "", "label": f"a {workflow.title.lower()} you may not read", "state": "", "state_kind": ""}
        if len(self.found) >= self.MOST:
            return {**unread, "url": f"/ui/{collection}/{item_id}", "label": f"a {workflow.title.lower()}"}
        try:
            item = self.service.get_item(collection, item_id, self.actor)
        except DomainError:
            return unread
        return {"url": f"/ui/{collection}/{item_id}", "label": item_label(item), "state": item.state,
                "state_kind": state_kind(workflow, item.state)}


def may_create(actor: Actor, workflow: Workflow) -> bool:
    """Whether the actor's roles could take the creating action (a relation counts through its role)."""
    return any(actor.has_role(RELATION_ROLE.get(g, g)) for g in workflow.creating_action.who)


def creatable_from(actor: Actor, item: WorkflowItem) -> list[dict[str, str]]:
    """Links to create items that name this one (e.g. a task for this mandate), while it is active."""
    if item.is_closed:
        return []
    links = []
    for cls, link in WORKFLOW_ITEMS.links():
        workflow = cls.workflow
        if (link.collection == item.workflow.collection and link.field in workflow.creating_action.fields
                and may_create(actor, workflow)):
            links.append({"url": f"/ui/{workflow.collection}/new?{link.field}={item.id}",
                          "label": f"New {workflow.title.lower()} for this {item.workflow.title.lower()}"})
    return links


def shown_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(" ", "minutes")
    if isinstance(value, date):
        return value.isoformat()
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


def local_time(value: datetime | str, tz: ZoneInfo) -> str:
    """An instant in the Secretariat's time zone, the zone shown: "2026-11-26 12:07 CET"."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
