"""What the admin and audit pages share: rendering in the site's layout, role checks, query values, errors.

These pages read and change users, the calendar, deliveries and the audit log rather than items,
so they have their own few helpers here instead of reaching into api/pages.py's private ones.
Every route calls `refuse_unless` (or a service method that checks the role itself) first.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.pages import HEADERS, templates
from api.problems import status_and_title
from api.queue import waiting_rows
from domain.actor import Actor
from domain.application import WORKFLOWS
from domain.errors import DomainError, Forbidden, ValidationFailed

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_QUERY = 200  # any one text a filter takes: enough for a name, an id or an event type


def render(request: Request, template: str, actor: Actor, *, section: str, status: int = 200,
           **context: Any) -> Response:
    """A page in the site's layout (nav, header), with the headers every page carries."""
    nav = [w for w in WORKFLOWS.values() if w.may_read_some(actor)]
    # The layout's "Waiting on me (N)" needs the queue on these pages too (base.html reads `waiting`).
    response = templates.TemplateResponse(request, template, {"actor": actor, "nav": nav, "section": section,
                                                              "waiting": waiting_rows(request, actor), **context},
                                          status_code=status)
    response.headers.update(HEADERS)
    return response


def error_page(request: Request, actor: Actor, error: DomainError, *, section: str = "") -> Response:
    status, title = status_and_title(error)
    return render(request, "error.html", actor, section=section, status=status, error=error, error_title=title)


def refuse_unless(actor: Actor, roles: Iterable[str], what: str) -> None:
    """Forbidden unless the actor holds one of `roles` (the page answers 403 with these words)."""
    roles = tuple(roles)
    if not any(actor.has_role(role) for role in roles):
        raise Forbidden(f"{what} needs one of: {', '.join(roles)}")


def problem_words(error: DomainError | ValidationError) -> tuple[int, str, str]:
    """(status, title, detail) of a refused form: a domain error, or what the API's schema refused."""
    if isinstance(error, DomainError):
        status, title = status_and_title(error)
        return status, title, error.detail
    faults = [f"{'.'.join(str(p) for p in e['loc'] if not isinstance(p, int)) or 'value'}: {e['msg']}"
              for e in error.errors()]
    return 422, "Invalid input", "; ".join(faults)


def bounded_text(name: str, value: str, limit: int = MAX_QUERY) -> str | None:
    """A query's text, stripped; None when empty; 422 when longer than `limit`."""
    value = value.strip()
    if len(value) > limit:
        raise ValidationFailed(name, f"{name} is at most {limit} characters")
    return value or None


def parse_day(name: str, value: str) -> date | None:
    """A YYYY-MM-DD day from a form or query (None when empty); 422 naming the field otherwise."""
    value = value.strip()
    if not value:
        return None
    try:
        if not DAY.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(name, f"{name} is a day written YYYY-MM-DD, not {value[:40]!r}") from None
    if not 1900 <= day.year <= 8999:
        raise ValidationFailed(name, f"{name} is a day from the year 1900 to 8999")
    return day


def start_of(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a day in the Secretariat's time zone (its midnight)."""
    return datetime.combine(day, time.min, tzinfo=tz)
