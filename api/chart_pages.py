"""The dashboard page: every chart over the last months (the overview shows a few of them).

The numbers come from the read models and are drawn by api/chart_figures.py; each caller sees only
what their roles read, as on the dashboard.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.chart_figures import MONTHS_SHOWN, dashboard_figures
from api.deps import ReadModelsDep, Service
from api.expensive import expensive_read
from api.page_session import PageActor, page_actor
from api.pages import _error_page, _render
from domain.errors import ValidationFailed
from projections.time_series import MAX_MONTHS

router = APIRouter(include_in_schema=False)
MONTH_CHOICES = (6, 12, 24, MAX_MONTHS)


# A longer span than the default is rationed as an expensive read: it reads the history once per month.
@router.get("/ui/dashboard", dependencies=[expensive_read(page_actor, when_given=("months",))])
def dashboard_page(request: Request, service: Service, read_models: ReadModelsDep, actor: PageActor,
                   months: str = str(MONTHS_SHOWN)):
    """Charts over the last months: done per month, open by state, time in state, overdue."""
    try:
        shown = months_asked(months)
    except ValidationFailed as error:
        return _error_page(request, actor, error)
    figures = dashboard_figures(read_models, actor, service.clock(), service.tz, shown)
    return _render(request, "dashboard.html", actor=actor, section="dashboard", figures=figures, months=shown,
                   choices=MONTH_CHOICES)


def months_asked(text: str) -> int:
    """`?months=`: a whole number from 1 to MAX_MONTHS (a chart's cost grows with its months, never past these)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_MONTHS):
        raise ValidationFailed("months", f"months must be a whole number from 1 to {MAX_MONTHS}")
    return int(text)
