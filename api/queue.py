"""What waits on the caller: `GET /queue` for API clients, and the rows the pages show (nav count, overview, queue).

The queue is read from the items view (projections/queues.py) with the workflow tables' rules; a page asks for
it once per request, however many parts of the page show it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import CurrentActor, ReadModelsDep
from api.page_display import item_label, item_row, label_for
from api.rendering import JSON
from domain.actor import Actor
from domain.workflow import Action
from projections.queues import Queue, Waiting, waiting_on_me


class QueueEntry(BaseModel):
    collection: str
    id: str
    version: int
    title: str
    state: str
    steps: list[str] = Field(..., description="The actions the item waits for from you, its next step first")
    take: Optional[str] = Field(..., description="The action that makes this unclaimed item yours (e.g. assign), "
                                                 "if you may take it")
    due: Optional[date] = Field(..., description="Its soonest open deadline")


class QueuePage(BaseModel):
    items: list[QueueEntry]
    total: int
    complete: bool = Field(..., description="False when a collection had more waiting than one answer reads; "
                                            "work through the lists for the rest")


router = APIRouter(tags=["Queue"])


@router.get("/queue", response_model=QueuePage)
def my_queue(actor: CurrentActor, read_models: ReadModelsDep):
    """What waits on you across every collection, soonest due first: tasks assigned to you, requests to screen or
    decide, reviews, questions put to your Party, and unclaimed work you may take."""
    queue = waiting_on_me(read_models, actor)
    return JSON({"items": [_entry(w) for w in queue.entries], "total": len(queue.entries),
                 "complete": queue.complete})


def _entry(waiting: Waiting) -> dict[str, Any]:
    item = waiting.item
    return {"collection": item.workflow.collection, "id": str(item.id), "version": item.version,
            "title": item.label, "state": item.state, "steps": waiting.steps, "take": waiting.take,
            "due": waiting.due}


def queue_for(request: Request, actor: Actor) -> Queue:
    """The actor's queue, read once per request (the navigation's count and the page's list share it)."""
    cached = getattr(request.state, "queue", None)
    if cached is None or cached[0] != actor.username:
        cached = request.state.queue = (actor.username, waiting_on_me(request.app.state.read_models, actor))
    return cached[1]


def waiting_rows(request: Request, actor: Actor | None) -> list[dict[str, Any]]:
    """What every page shows of the queue (the navigation's count, the overview's list); nothing signed out."""
    return queue_rows(queue_for(request, actor)) if actor is not None else []


def queue_rows(queue: Queue) -> list[dict[str, Any]]:
    """The queue as the pages show it: each item, its steps (taken right there when they need no input, else
    a link to the item's form) and whether it may be taken ("Assign to me")."""
    rows = []
    for waiting in queue.entries:
        item, workflow = waiting.item, waiting.item.workflow
        url = f"/ui/{workflow.collection}/{item.id}"
        steps = [{"name": name, "label": label_for(name), "url": f"{url}/{name}", "form": f"{url}#action-{name}",
                  "direct": _needs_no_input(workflow.by_name[name])} for name in waiting.steps]
        rows.append({**item_row(item), "label": item_label(item), "version": item.version, "steps": steps,
                     "take_url": f"/ui/queue/{workflow.collection}/{item.id}/take" if waiting.take else "",
                     "due": waiting.due})
    return rows


def _needs_no_input(action: Action) -> bool:
    return not action.requires and not action.reason_required
