"""The audit routes: the global audit log (and, beside it, the hash chain's verification); the work is audit/'s."""

from datetime import datetime
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import CurrentActor, ReadModelsDep, RunnerDep, Service
from api.expensive import expensive_read
from api.limits import check_deadline
from api.params import Instant, Position, limit_up_to
from api.rendering import JSON
from audit.access import refuse_unless_auditing
from audit.log_reading import log_page
from audit.store import verify_store

router = APIRouter(tags=["Audit"])


# -- the global audit log ------------------------------------------------------------------------


class AuditEvent(BaseModel):
    position: int
    kind: str
    item_id: str
    collection: Optional[str]
    version: int
    type: str
    at: datetime  # when it was recorded
    occurred_at: datetime  # when what it records happened (earlier for a past record imported later)
    actor: Optional[str]
    reason: Optional[str]
    data: dict[str, Any]
    party: Optional[str]


class AuditEventPage(BaseModel):
    events: list[AuditEvent]
    next: Optional[int]


@router.get("/audit/events", response_model=AuditEventPage)
def audit_events(actor: CurrentActor, read_models: ReadModelsDep,
                 actor_filter: Annotated[Optional[str], Query(alias="actor", max_length=80,
                                                              description="Only events by this user")] = None,
                 item_id: Annotated[Optional[str], Query(max_length=36, description="Only this item's (or "
                                                         "user's) events")] = None,
                 type: Annotated[Optional[str], Query(max_length=80, description="`Task.Started` exactly, or "
                                                      "`Started` for that event of any kind")] = None,
                 since: Annotated[Optional[Instant], Query(description="At or after this instant (with offset)")]
                 = None,
                 until: Annotated[Optional[Instant], Query(description="Before this instant (with offset)")] = None,
                 limit: Annotated[limit_up_to(1000), Query()] = 100,
                 after: Annotated[Position, Query(description="The last position seen (`next` of the page "
                                                              "before)")] = 0):
    """The global audit log, oldest first (auditor, head): pass `next` back as `after` for the next page."""
    return JSON(log_page(read_models, actor, actor_filter=actor_filter, item_id=item_id, type=type,
                         since=since, until=until, limit=limit, after=after))


# -- the hash chain's verification -----------------------------------------------------------------

@router.get("/audit/verify", dependencies=[expensive_read()])
def audit_verify(actor: CurrentActor, service: Service, runner: RunnerDep):
    """Recompute the hash chain from the stored events and compare it with the seal (auditor, head)."""
    refuse_unless_auditing(actor, "verifying the audit chain")
    runner.wait_for(runner.head(), timeout=5.0)  # events recorded just now are sealed, not reported unsealed
    # It walks the whole log: it stops once its request has been answered at the time limit.
    return JSON(verify_store(service, runner.reader or runner.engine, progress=check_deadline))
