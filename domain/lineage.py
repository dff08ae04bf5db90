"""Lineage: what became of a meeting's conclusions, and where a mandate or task came from.

Down from a meeting: each conclusion, the mandates and tasks made from it, and the tasks of those
mandates. Up from a mandate or task: the meeting and conclusion that caused it, through a task's
mandate when the task names no meeting itself. Every item is fetched with `visible_item`, so the
walk shows only what the caller may read, and a meeting they may not read answers exactly as a
missing one does.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from domain.actor import Actor
from domain.errors import NotFound
from domain.item import WorkflowItem
from domain.meeting import Meeting


# The collections with a lineage: meetings (down), and what is made from their conclusions (up).
MADE_FROM_MEETINGS = ("mandates", "tasks")
LINEAGE_COLLECTIONS = ("meetings", *MADE_FROM_MEETINGS)


class ItemReader(Protocol):
    def visible_item(self, collection: str, item_id: UUID | str, actor: Actor) -> WorkflowItem: ...


def node(item: WorkflowItem) -> dict[str, Any]:
    """An item in the tree: what it is, where it stands, and its open deadlines."""
    return {"collection": item.workflow.collection, "id": str(item.id), "title": item.title, "state": item.state,
            "open_deadlines": [{"kind": d["kind"], "due": d["due"]} for d in item.own_deadlines() if d["open"]]}


def meeting_lineage(reader: ItemReader, meeting_id: UUID | str, actor: Actor) -> dict[str, Any]:
    """`{"meeting": node, "conclusions": [{number, text, tasks_someone, made: [node + tasks]}]}`."""
    meeting = reader.visible_item("meetings", meeting_id, actor)
    assert isinstance(meeting, Meeting)
    conclusions = []
    for conclusion in meeting.conclusions.values():
        made = [_down(reader, entry["collection"], entry["id"], actor) for entry in conclusion["made"]]
        conclusions.append({"number": conclusion["number"], "text": conclusion["text"],
                            "tasks_someone": conclusion["tasks_someone"], "made": [m for m in made if m]})
    return {"meeting": node(meeting), "conclusions": conclusions}


def _down(reader: ItemReader, collection: str, item_id: str, actor: Actor) -> dict[str, Any] | None:
    item = _readable(reader, collection, item_id, actor)
    if item is None:
        return None
    found = node(item)
    if collection == "mandates":
        tasks = [_readable(reader, "tasks", task_id, actor) for task_id in item.fields.get("tasks", {})]
        found["tasks"] = [node(task) for task in tasks if task is not None]
    return found


def origin(reader: ItemReader, collection: str, item_id: UUID | str, actor: Actor) -> dict[str, Any]:
    """`{"item", "mandate", "via_mandate", "meeting", "conclusion"}`: the item and, where known and readable, what
    caused it; `via_mandate` when the meeting is the task's mandate's (the task names none itself)."""
    item = reader.visible_item(collection, item_id, actor)
    mandate = None
    made_at = item
    if collection == "tasks" and item.fields.get("mandate_id"):
        mandate = _readable(reader, "mandates", item.fields["mandate_id"], actor)
        if not item.fields.get("meeting_id") and mandate is not None:
            made_at = mandate
    meeting_id, number = made_at.fields.get("meeting_id"), made_at.fields.get("conclusion")
    meeting = _readable(reader, "meetings", meeting_id, actor) if meeting_id else None
    conclusion = meeting.conclusions.get(str(number)) if isinstance(meeting, Meeting) else None
    return {"item": node(item), "mandate": node(mandate) if mandate is not None else None,
            "via_mandate": made_at is not item,
            "meeting": node(meeting) if meeting is not None else None,
            "conclusion": {k: conclusion[k] for k in ("number", "text", "tasks_someone")} if conclusion else None}


def _readable(reader: ItemReader, collection: str, item_id: str, actor: Actor) -> WorkflowItem | None:
    try:
        return reader.visible_item(collection, item_id, actor)
    except NotFound:
        return None
