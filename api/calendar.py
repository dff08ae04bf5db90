"""The business calendar: closure days (each change an audited event) and working-day arithmetic."""

import re
from datetime import date, datetime
from typing import Annotated, Optional

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from api.deps import CurrentActor, Service
from api.rendering import JSON
from domain.calendar_admin import MAX_WORKING_DAYS
from domain.closures import MAX_REASON, Closure
from domain.support_request import DECISION_WORKING_DAYS


def _iso_day(value: object) -> object:
    # Only YYYY-MM-DD: pydantic would also take a Unix time ("0" -> 1970-01-01), which no one means here.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
Reason = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=MAX_REASON)]


class ClosureCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class ClosurePublic(BaseModel):
    day: date
    reason: str
    closed_by: str
    closed_at: datetime


class WorkingDayPublic(BaseModel):
    from_: date = Field(alias="from")
    days: int
    working_day: date


def closure_document(closure: Closure) -> dict:
    return {"day": closure.day, "reason": closure.reason, "closed_by": closure.closed_by,
            "closed_at": closure.closed_at}


router = APIRouter(prefix="/calendar", tags=["Calendar"])


@router.get("/closures", response_model=list[ClosurePublic])
def list_closures(_actor: CurrentActor, service: Service):
    """Every closed day besides weekends and public holidays, earliest first (any signed-in user)."""
    return JSON([closure_document(c) for c in service.closures()])


@router.put("/closures/{day}", response_model=ClosurePublic, status_code=201)
def close_day(day: Annotated[Day, Path(description="YYYY-MM-DD")], body: ClosureCreate, actor: CurrentActor,
              service: Service):
    """Close a working day, with a reason (head, admin): deadlines derived from now on skip it."""
    return JSON(closure_document(service.close_day(day, body.reason, actor=actor)), status_code=201)


@router.delete("/closures/{day}", status_code=204)
def reopen_day(day: Annotated[Day, Path(description="YYYY-MM-DD")],
               reason: Annotated[Reason, Query(description="Why the day is open after all")], actor: CurrentActor,
               service: Service):
    """Reopen a closed day, the reason in the query (head, admin): deadlines derived from now on count it."""
    service.reopen_day(day, reason, actor=actor)
    return Response(status_code=204)


@router.get("/working-days", response_model=WorkingDayPublic)
def working_day(_actor: CurrentActor, service: Service,
                start: Annotated[Optional[Day], Query(alias="from", description="The day to count from (it does "
                                                      "not count itself); default: today in the Secretariat's "
                                                      "time zone")] = None,
                days: Annotated[int, Query(ge=1, le=MAX_WORKING_DAYS)] = DECISION_WORKING_DAYS):
    """The Nth working day after a day, on the business calendar (e.g. a request's decision deadline)."""
    start = start or service.today()
    return JSON({"from": start, "days": days, "working_day": service.working_day_after(start, days)})
