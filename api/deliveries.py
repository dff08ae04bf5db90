"""Deliveries: how each reminder fared by e-mail and webhook, and a second chance for a failed one.

Who sees and retries which is decided in one place, `scheduler.outbox.delivery_scope`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from api.deps import CurrentActor, Service
from api.params import Offset, limit_up_to
from api.rendering import JSON
from scheduler.outbox import CHANNELS, STATUSES, Outbox, delivery_scope

Status = Literal[STATUSES]
ChannelName = Literal[CHANNELS]


class DeliveryPublic(BaseModel):
    id: str
    reminder_id: str
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: Optional[str]
    delivered_at: Optional[datetime]
    created_at: datetime
    recipients: list[str]
    reminder: dict[str, Any]


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryPublic]
    total: int


async def get_outbox(request: Request) -> Outbox:
    # The outbox lives beside the views: the runner's writer engine, and its reader for lists.
    runner = request.app.state.runner
    return Outbox(runner.engine, reader=runner.reader)


OutboxDep = Annotated[Outbox, Depends(get_outbox)]

router = APIRouter(tags=["Deliveries"])


@router.get("/deliveries", response_model=DeliveryPage)
def list_deliveries(actor: CurrentActor, outbox: OutboxDep, status: Optional[Status] = None,
                    channel: Optional[ChannelName] = None, limit: Annotated[limit_up_to(500), Query()] = 50,
                    offset: Annotated[Offset, Query()] = 0):
    """Reminders sent by e-mail and webhook, newest first, with their status and last error: those of the
    collections you read in full (head, auditor)."""
    page, total = outbox.list_deliveries(delivery_scope(actor), status=status, channel=channel, limit=limit,
                                         offset=offset)
    return JSON({"deliveries": page, "total": total})


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryPublic)
def retry_delivery(delivery_id: str, actor: CurrentActor, service: Service, outbox: OutboxDep):
    """Queue a failed, recipient-less or expired delivery again, with a fresh round of tries (head)."""
    return JSON(outbox.retry(delivery_id, delivery_scope(actor, retry=True), now=service.clock(),
                             by=actor.username))
