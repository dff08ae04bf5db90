"""The business calendar's page: the closed days, closing one and reopening one (head, admin).

The service decides who may change the calendar (domain/calendar_admin.py: CALENDAR_KEEPERS) and
records each change as an event; the reasons are bounded as the JSON API's are (api/calendar.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from api.back_office import error_page, parse_day, problem_words, refuse_unless, render
from api.calendar import Reason
from api.deps import Service
from api.page_session import CHECKED_POST, FormFields, PageActor
from domain.actor import Actor
from domain.application import SecretariatApplication
from domain.calendar_admin import CALENDAR_KEEPERS
from domain.errors import DomainError, ValidationFailed

router = APIRouter(include_in_schema=False)
SECTION = "admin"
WHAT = "the business calendar's page"
REASON = TypeAdapter(Reason)
DONE = {"closed": "The day is closed: deadlines derived from now on skip it.",
        "reopened": "The day is open again: deadlines derived from now on count it."}


@router.get("/ui/admin/closures")
def closures_page(request: Request, service: Service, actor: PageActor, done: str = ""):
    """Every closed day besides weekends and public holidays, and the forms to close and reopen days."""
    return _closures_page(request, service, actor, done=DONE.get(done))


@router.post("/ui/admin/closures", dependencies=CHECKED_POST)
def close_day(request: Request, service: Service, actor: PageActor, form: FormFields):
    """Close a working day, with a reason."""
    try:
        refuse_unless(actor, CALENDAR_KEEPERS, WHAT)
        day = parse_day("day", form.get("day", ""))
        if day is None:
            raise ValidationFailed("day", "give the day to close (YYYY-MM-DD)")
        service.close_day(day, REASON.validate_python(form.get("reason", "")), actor=actor)
    except (DomainError, ValidationError) as error:
        return _closures_page(request, service, actor, error=error, given=form)
    return RedirectResponse("/ui/admin/closures?done=closed", 303)


@router.post("/ui/admin/closures/{day}/reopen", dependencies=CHECKED_POST)
def reopen_day(request: Request, day: str, service: Service, actor: PageActor, form: FormFields):
    """Reopen a closed day, with a reason."""
    try:
        refuse_unless(actor, CALENDAR_KEEPERS, WHAT)
        closed = parse_day("day", day)
        if closed is None:
            raise ValidationFailed("day", "give the day to reopen (YYYY-MM-DD)")
        service.reopen_day(closed, REASON.validate_python(form.get("reason", "")), actor=actor)
    except (DomainError, ValidationError) as error:
        return _closures_page(request, service, actor, error=error, given={})
    return RedirectResponse("/ui/admin/closures?done=reopened", 303)


def _closures_page(request: Request, service: SecretariatApplication, actor: Actor, *, done: str | None = None,
                   error: DomainError | ValidationError | None = None, given: dict[str, str] | None = None) -> Response:
    try:
        refuse_unless(actor, CALENDAR_KEEPERS, WHAT)
    except DomainError as refused:
        return error_page(request, actor, refused, section=SECTION)
    status, title, detail = problem_words(error) if error else (200, "", "")
    return render(request, "admin_closures.html", actor, section=SECTION, status=status, done=done,
                  error_title=title, error_detail=detail, closures=service.closures(), given=given or {},
                  today=service.today(), tz=service.tz)
