"""The reminders inbox: what the scheduler raised for the caller, and acknowledging it (an event on the item)."""

from typing import Annotated, Any, Optional

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.deps import CurrentActor, ReadModelsDep, Service
from api.params import Offset, limit_up_to
from api.rendering import JSON, read_your_write
from domain.reminders import unknown_reminder


class Reminder(BaseModel):
    id: str
    item_id: str
    collection: str
    title: str
    deadline: str
    due: str
    rung: str
    instant: str
    raised_at: str
    addressed_to: list[str]
    acknowledged_by: Optional[str]
    acknowledged_at: Optional[str]


class ReminderPage(BaseModel):
    items: list[Reminder]
    total: int


router = APIRouter(tags=["Reminders"])


@router.get("/reminders", response_model=ReminderPage)
def list_reminders(actor: CurrentActor, read_models: ReadModelsDep,
                   mine: Annotated[bool, Query(description="Only those addressed to you, by name or role")] = False,
                   acknowledged: Annotated[Optional[bool], Query(description="Only (un)acknowledged ones")] = None,
                   limit: Annotated[limit_up_to(500), Query()] = 50, offset: Annotated[Offset, Query()] = 0):
    """Reminders, newest first: with `mine=true` those addressed to you (your name, or a role you hold);
    without it every reminder on the collections you read in full."""
    found, total = read_models.reminders(actor, mine=mine, acknowledged=acknowledged, limit=limit, offset=offset)
    return JSON({"items": found, "total": total})


@router.post("/reminders/{reminder_id}/acknowledge", response_model=Reminder)
def acknowledge(reminder_id: str, actor: CurrentActor, service: Service, read_models: ReadModelsDep,
                request: Request):
    """Record that you saw the reminder (an event on its item, in the item's history); again is a no-op.
    Honours `Prefer: wait-for-projection` like every write."""
    reminder = read_models.reminder(reminder_id)
    if reminder is None:
        raise unknown_reminder(reminder_id)
    item, position = service.acknowledge_reminder(reminder["collection"], reminder["item_id"], reminder_id, actor)
    entry: dict[str, Any] = item.reminders[reminder_id]
    return read_your_write(request, position, JSON({**reminder, "acknowledged_by": entry["acknowledged_by"],
                                                    "acknowledged_at": entry["acknowledged_at"]}))
