"""What the charts show, from the read models: the figures of the dashboard page and the overview, an item's
workflow diagram and a mandate's progress, each scoped to what the caller reads.

The numbers come from the views (projections/time_series.py for the months, the time-in-state
histogram, the progress counts), never from a replay; api/charts.py and api/workflow_diagram.py draw them.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any, Iterable

from api.charts import Figure, bar_chart, duration_chart, line_chart, stacked_bar_chart
from api.page_display import label_for
from api.workflow_diagram import workflow_diagram
from domain.actor import Actor
from domain.application import SecretariatApplication
from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from domain.workflow import Workflow
from projections.queries import ReadModels, progress_summary, read_scopes
from projections.time_series import MonthlySeries, monthly_series

MONTHS_SHOWN = 12  # the dashboard's default
OVERVIEW_MONTHS = 6


def dashboard_figures(read_models: ReadModels, actor: Actor, now: datetime, tz: tzinfo,
                      months: int) -> list[Figure]:
    """Done per month, overdue over time, open by state over time and time in state, for what the actor reads."""
    if not reads_some(actor):
        return []
    series = monthly_series(read_models.engine, actor, now, tz, months)
    figures = [*_done_and_overdue(series), *_open_by_state(series)]
    full = [c for c, scope in read_scopes(actor).items() if scope == {}]
    time_in_state = read_models.time_in_state() if full else {}
    for collection in full:
        workflow = WORKFLOW_ITEMS.workflows[collection]
        measured = time_in_state.get(collection, {})
        stays = [(label_for(s), measured[s]["median_seconds"], measured[s]["p90_seconds"], int(measured[s]["samples"]))
                 for s in workflow.states if s in measured]
        if stays:
            figures.append(duration_chart(
                f"{workflow.title}s: time in each state",
                f"For each state a {workflow.title.lower()} has left, the median and the 90th percentile of the "
                f"time spent in it (each within 9%).", stays))
    return figures


def overview_figures(read_models: ReadModels, actor: Actor, now: datetime, tz: tzinfo) -> list[Figure]:
    """The overview's charts: done per month and overdue, over the last OVERVIEW_MONTHS months."""
    if not reads_some(actor):
        return []
    return _done_and_overdue(monthly_series(read_models.engine, actor, now, tz, OVERVIEW_MONTHS))


def overview_charts(read_models: ReadModels, actor: Actor, service: SecretariatApplication) -> dict[str, Any]:
    """The overview's charts and where the rest are."""
    return {"figures": overview_figures(read_models, actor, service.clock(), service.tz), "months": OVERVIEW_MONTHS,
            "url": "/ui/dashboard"}


def item_extras(read_models: ReadModels, item: WorkflowItem) -> dict[str, Any]:
    """For an item's page: its workflow's diagram with its state filled, and its children's progress if it keeps
    any (a mandate's tasks)."""
    progress = None
    link = WORKFLOW_ITEMS.progress_link()
    if link and item.workflow.collection == link[1].collection:
        key = str(item.id)
        progress = {**progress_summary(read_models.mandate_progress([key]).get(key, {})),
                    "children": f"{link[0].workflow.title.lower()}s"}
    return {"diagram": workflow_diagram(item.workflow, item.state), "progress": progress}


def list_progress(read_models: ReadModels, workflow: Workflow,
                  items: Iterable[WorkflowItem]) -> dict[str, float | None]:
    """For a list of the items that keep progress (mandates): each one's percent done, None for one without
    children counted (no tasks: 0% would say nothing was done of something); {} for other lists."""
    if workflow.collection != WORKFLOW_ITEMS.progress_collection():
        return {}
    ids = [str(item.id) for item in items]
    counted = read_models.mandate_progress(ids)
    found: dict[str, float | None] = {}
    for key in ids:
        summary = progress_summary(counted.get(key, {}))
        found[key] = summary["percent_done"] if summary["open"] + summary["done"] else None
    return found


def reads_some(actor: Actor) -> bool:
    """Whether the actor reads any collection at all (an admin reads none: no chart of zeros for them)."""
    return any(scope is not None for scope in read_scopes(actor).values())


def month_label(first_day: date) -> str:
    return first_day.strftime("%b %Y")


def _done_and_overdue(series: MonthlySeries) -> list[Figure]:
    labels = [month_label(m) for m in series.months]
    span = f"{labels[0]} to {labels[-1]}"
    figures = []
    if series.done is not None and series.done_collection:
        workflow = WORKFLOW_ITEMS.workflows[series.done_collection]
        what = f"{workflow.title}s {label_for(series.done_state or '').lower()}"
        figures.append(bar_chart(f"{what} per month", f"How many {workflow.title.lower()}s reached "
                                 f"{label_for(series.done_state or '').lower()} in each month, {span}.",
                                 labels, series.done))
    figures.append(line_chart("Overdue deadlines", f"Open deadlines past their due day at the end of each month, "
                              f"{span} (the last month: today).", labels, series.overdue))
    return figures


def _open_by_state(series: MonthlySeries) -> list[Figure]:
    labels = [month_label(m) for m in series.months]
    figures = []
    for collection, per_month in series.states.items():
        workflow = WORKFLOW_ITEMS.workflows[collection]
        states = [s for s in workflow.states if s not in workflow.terminal]
        if not any(month[s] for month in per_month for s in states):
            continue  # nothing open in these months: no chart of empty bars
        figures.append(stacked_bar_chart(
            f"Open {workflow.title.lower()}s by state",
            f"Open {workflow.title.lower()}s at the end of each month, {labels[0]} to {labels[-1]}, "
            f"stacked by state.", labels, {label_for(s): [month[s] for month in per_month] for s in states}))
    return figures
