"""A workflow that exists only in the tests: proof that a workflow is one module plus one registry line.

`SiteVisit` declares what any workflow declares (its table, a list filter on a field with no column
of its own, a value derived on creation, a deadline, readers scoped to a Party) and nothing else in
the code base knows of it. The tests register it before the app is built, and only for themselves
(`WORKFLOW_ITEMS.registered`, or a server process of its own started through `serve_with_it`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from domain.actor import PARTIES
from domain.calendar import BusinessCalendar
from domain.item import WorkflowItem
from domain.item_deadlines import deadline
from domain.workflow import Action, Field, Workflow

STAFF = ("secretariat", "head")
REPORT_WORKING_DAYS = 5

WORKFLOW = Workflow(
    name="site_visit",
    collection="site-visits",
    title="Site visit",
    states=("planned", "visited", "reported", "called_off"),
    terminal=("reported", "called_off"),
    # A Party's visits are its own: a liaison reads theirs only, and the audit log keeps them apart.
    readers=("secretariat", "head", "auditor", "own_party"),
    filters=("party", "region"),  # `region` has no column in the items view: its filter reads the facets
    fields=(
        Field("party", str, required=True, choices=PARTIES),
        Field("region", str, required=True, max_length=60),
        Field("title", str, required=True, max_length=300),
        Field("visit_on", date, required=True),
        Field("report", str, max_length=5000),
    ),
    actions=(
        Action("plan", (), "planned", STAFF, accepts=("party", "region", "title", "visit_on"), event="Planned",
               description="Plan a visit"),
        Action("visit", ("planned",), "visited", STAFF, event="Visited"),
        Action("file_report", ("visited",), "reported", STAFF, requires=("report",), event="ReportFiled"),
        Action("call_off", ("planned",), "called_off", ("head",), reason_required=True, event="CalledOff"),
    ),
)


class SiteVisit(WorkflowItem):
    workflow = WORKFLOW
    derives_on = frozenset({"plan"})
    snapshotting_interval = 20

    class Planned(WorkflowItem.Created):
        pass

    class Visited(WorkflowItem.Event):
        pass

    class ReportFiled(WorkflowItem.Event):
        pass

    class CalledOff(WorkflowItem.Event):
        pass

    @classmethod
    def derived_on_creation(cls, today: date, calendar: BusinessCalendar, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"report_due": calendar.add_working_days(values["visit_on"], REPORT_WORKING_DAYS)}

    def own_deadlines(self) -> list[dict]:
        return (deadline("visit", self.fields["visit_on"], self.state == "planned", ["role:secretariat"])
                + deadline("report", self.fields["report_due"], self.state == "visited", ["role:secretariat"]))


def visit_values(**overrides: Any) -> dict[str, Any]:
    return {"party": "AL", "region": "Shkodër", "title": "Border crossing at Hani i Hotit",
            "visit_on": date(2026, 12, 1), **overrides}



# The `secretariat` command with the site visits registered before the app is built: run by
# `python -c SERVE_WITH_IT serve ...` with the repository's root as the first argument.
SERVE_WITH_IT = """
import sys
sys.path.insert(0, sys.argv.pop(1))
from domain.registry import register
from tests.plug_in_workflow import SiteVisit
register(SiteVisit)
from secretariat.cli import main
sys.argv[0] = "secretariat"
main()
"""
