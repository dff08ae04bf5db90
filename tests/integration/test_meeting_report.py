"""The report for a meeting lists exactly what changed between the previous meeting's date and its own.

On each store, with the clock moved by the test: changes made before the previous meeting, between
the two meetings and after this one; the report as of this meeting names the ones between, no
other, and its figures equal what the dashboard's replay oracle (tests/as_of_replay.py) gives
as of the same instant. What each reader sees: the EWG counts support without detail, a Party
liaison of a participating Party only their own Party's counts, any other liaison nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import NotFound
from report.content import meeting_day_starts, progress_report
from tests.as_of_replay import dashboards_as_of
from tests.factories import ALBA, AUDREY, ERIK, HANA, MILAN, SARA, register_cast

SINCE_DAY, UNTIL_DAY = date(2026, 2, 2), date(2026, 6, 1)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=timezone.utc)


def meeting(service, body: str, starts_on: date, title: str, **more: Any):
    values = {"body": body, "title": title, "starts_on": starts_on, "ends_on": starts_on, "place": "Sofia",
              "participants": ["AL", "BA"], **more}
    return service.create("meetings", SARA, values).item


def mandate(service, reference: str, **more: Any):
    return service.create("mandates", SARA, {"reference": reference, "title": f"Mandate {reference}",
                                             "decided_on": date(2026, 1, 1), "assigned_to": "secretariat",
                                             **more}).item


def task(service, title: str, **more: Any):
    return service.create("tasks", SARA, {"title": title, **more}).item


def support(service, party: str, kind: str = "logistical"):
    values = {"party": party, "kind": kind, "activity": "officer_exchange", "description": "Exchange of officers",
              "operational_involvement": False}
    if kind == "financial":
        values["amount_eur"] = Decimal(5000)
    return service.create("support-requests", SARA, values).item


def act(service, collection: str, item, action: str, actor=SARA, **values: Any) -> None:
    reason = values.pop("reason", None)
    service.act(collection, item.id, action, actor, values, reason=reason)


def finish(service, a_task) -> None:
    act(service, "tasks", a_task, "start")
    act(service, "tasks", a_task, "submit", result="Done")
    act(service, "tasks", a_task, "approve", HANA)


@pytest.fixture
def story(service, clock) -> dict[str, Any]:
    """Two CoM meetings; a cancelled one and an EWG one between them; changes before, between and after."""
    clock.now = at(1, 5)  # the users too: the oracle's replay stops at the first event stamped after its instant
    register_cast(service)
    previous = meeting(service, "com", SINCE_DAY, "Committee of Ministers", number="3rd")
    this = meeting(service, "com", UNTIL_DAY, "Committee of Ministers", number="4th")
    cancelled = meeting(service, "com", date(2026, 4, 1), "Extraordinary Committee")
    ewg = meeting(service, "ewg", date(2026, 5, 4), "Expert Working Group")
    act(service, "meetings", cancelled, "cancel", reason="No quorum")
    # Before the previous meeting: none of it is a change since.
    old = mandate(service, "OLD-1")
    withdrawn = mandate(service, "OLD-2")
    old_task = task(service, "Catalogue agreements", mandate_id=str(old.id))
    act(service, "tasks", old_task, "start")
    al_request = support(service, "AL", "financial")
    # The previous meeting: convened, two conclusions, a mandate made of the first.
    clock.now = at(2, 2, 9)
    act(service, "meetings", previous, "convene")
    act(service, "meetings", previous, "record_conclusion", conclusion_text="Support the Parties' operations",
        tasks_someone=True)
    act(service, "meetings", previous, "record_conclusion", conclusion_text="Thank the host")
    made = mandate(service, "NEW-1", meeting_id=str(previous.id), conclusion=1)
    act(service, "meetings", previous, "conclude")
    # Between the meetings.
    clock.now = at(3, 10)
    act(service, "mandates", old, "start")
    act(service, "tasks", old_task, "submit", result="The catalogue")
    act(service, "tasks", old_task, "approve", HANA)
    late = task(service, "Draft the annual report", mandate_id=str(made.id), due=date(2026, 4, 15))
    act(service, "mandates", withdrawn, "withdraw", HANA, reason="Overtaken by events")
    act(service, "support-requests", al_request, "start_screening")
    act(service, "support-requests", al_request, "reject", HANA, reason="Duplicates a bilateral effort")
    support(service, "RS")
    support(service, "BA", "financial")
    # After this meeting's first day began: none of it is in its report.
    clock.now = at(6, 1, 12)
    act(service, "mandates", made, "start")
    mandate(service, "AFTER-1")
    finish(service, late)
    support(service, "AL")
    return {"previous": previous, "this": this, "ewg": ewg, "old": old, "withdrawn": withdrawn, "made": made,
            "old_task": old_task, "late": late}


def expected_state_changes(service, ids: dict[str, list], since: datetime, until: datetime) -> list[tuple]:
    """From each item's history: the events between the instants that moved its state."""
    found = []
    for collection, items in ids.items():
        for item_id in items:
            for e in service.history(collection, item_id, SARA):
                if since < e["at"] <= until and e["state_before"] not in (None, e["state_after"]):
                    found.append((collection, str(item_id), e["state_before"], e["state_after"]))
    return sorted(found)


def test_the_report_lists_exactly_the_changes_between_the_two_meetings(service, story):
    report = progress_report(service, str(story["this"].id), SARA)
    since, until = meeting_day_starts(SINCE_DAY, service.tz), meeting_day_starts(UNTIL_DAY, service.tz)
    assert report["previous_meeting"]["id"] == str(story["previous"].id)  # not the cancelled one, nor the EWG's
    assert (report["since"], report["as_of"]) == (since, until)
    changes = report["changes"]
    assert [m["reference"] for m in changes["new_mandates"]] == ["NEW-1"]
    every = {"mandates": [story[k].id for k in ("old", "withdrawn", "made")],
             "tasks": [story[k].id for k in ("old_task", "late")]}
    listed = sorted((c["collection"], c["id"], c["from"], c["to"]) for c in changes["state_changes"])
    assert listed == expected_state_changes(service, every, since, until)
    assert listed == sorted([("mandates", str(story["old"].id), "adopted", "in_progress"),
                             ("mandates", str(story["withdrawn"].id), "adopted", "withdrawn"),
                             ("tasks", str(story["old_task"].id), "in_progress", "in_review"),
                             ("tasks", str(story["old_task"].id), "in_review", "done")])
    assert [(t["id"], t["mandate_id"]) for t in changes["tasks_done"]] == [(str(story["old_task"].id),
                                                                            str(story["old"].id))]
    assert [(o["id"], o["deadline"], o["due"]) for o in changes["overdue"]] == [
        (str(story["late"].id), "due", date(2026, 4, 15))]
    rows = {m["reference"]: (m["state"], m["state_before"], m["in_force"]) for m in report["mandates"]}
    assert rows == {"OLD-1": ("in_progress", "adopted", True), "OLD-2": ("withdrawn", "adopted", False),
                    "NEW-1": ("adopted", None, True)}
    conclusions = report["conclusions"]
    assert [(c["number"], c["tasks_someone"], [m["id"] for m in c["made"]]) for c in conclusions] == [
        (1, True, [str(story["made"].id)]), (2, False, [])]
    assert conclusions[0]["made"][0]["state"] == "adopted"  # as of this meeting, not as now (in_progress)
    assert report["support"]["rows"] == [
        {"party": "AL", "kind": "financial", "outcome": "rejected", "count": 1},
        {"party": "BA", "kind": "financial", "outcome": "pending", "count": 1},
        {"party": "RS", "kind": "logistical", "outcome": "pending", "count": 1}]
    assert report["figures"] == {"mandates_in_force": 2, "mandates_by_state": {"adopted": 1, "in_progress": 1},
                                 "new_mandates": 1, "state_changes": 4, "tasks_done": 1, "overdue": 1,
                                 "support_requests": 3}


def test_the_reports_figures_equal_the_replay_of_the_log_up_to_the_meetings_date(service, story):
    report = progress_report(service, str(story["this"].id), AUDREY)
    oracle = dashboards_as_of(service, [AUDREY], report["as_of"], service.tz)[0]
    in_force = {s: n for s, n in oracle["counts"]["mandates"].items() if n
                and s not in service.aggregates["mandates"].workflow.terminal}
    assert report["figures"]["mandates_by_state"] == in_force
    assert report["figures"]["mandates_in_force"] == sum(in_force.values())
    replayed = {m["id"]: {k: m[k] for k in ("state", "tasks", "open", "done", "percent_done")}
                for m in oracle["mandates"]}
    reported = {m["id"]: {"state": m["state"], **m["progress"]} for m in report["mandates"] if m["in_force"]}
    assert reported == replayed
    overdue = [(d["collection"], str(d["item_id"]), d["kind"], d["due"]) for d in oracle["overdue"]
               if d["collection"] in ("mandates", "tasks")]
    assert [(o["collection"], o["id"], o["deadline"], o["due"]) for o in report["changes"]["overdue"]] == overdue
    requests = oracle["counts"]["support-requests"]
    assert report["figures"]["support_requests"] == sum(requests.values())
    outcomes = report["support"]["by_outcome"]
    assert outcomes == {"pending": requests["submitted"], "rejected": requests["rejected"]}


def test_a_meeting_without_an_earlier_one_counts_changes_from_the_first_record(service, story):
    report = progress_report(service, str(story["previous"].id), SARA)
    assert report["previous_meeting"] is None and report["since"] is None and report["conclusions"] == []
    assert [m["reference"] for m in report["changes"]["new_mandates"]] == ["OLD-1", "OLD-2"]
    assert [(c["from"], c["to"]) for c in report["changes"]["state_changes"]] == [("open", "in_progress")]


def test_each_reader_sees_what_they_may_read_and_support_only_as_counts(service, story):
    staff = progress_report(service, str(story["this"].id), SARA)
    ewg = progress_report(service, str(story["this"].id), ERIK)
    assert ewg["support"]["rows"] == staff["support"]["rows"]  # counts, though the EWG reads no request
    assert ewg["mandates"] == staff["mandates"]
    for row in staff["support"]["rows"]:
        assert set(row) == {"party", "kind", "outcome", "count"}  # never a request's detail
    alba = progress_report(service, str(story["this"].id), ALBA)  # Albania takes part in the meeting
    assert alba["mandates"] == [] and alba["changes"]["state_changes"] == []
    assert alba["support"]["rows"] == [{"party": "AL", "kind": "financial", "outcome": "rejected", "count": 1}]
    assert alba["support"]["scope"] == "AL"
    with pytest.raises(NotFound) as hidden:
        progress_report(service, str(story["this"].id), MILAN)  # Serbia does not
    with pytest.raises(NotFound) as unknown:
        progress_report(service, "9f0c1b7e-0000-4000-8000-000000000000", MILAN)
    assert str(hidden.value).replace(str(story["this"].id), "ID") == str(unknown.value).replace(
        "9f0c1b7e-0000-4000-8000-000000000000", "ID")


def test_the_evening_of_the_meetings_day_is_after_its_report(service, story, clock):
    clock.now = meeting_day_starts(UNTIL_DAY, service.tz) + timedelta(microseconds=1)
    mandate(service, "ON-THE-DAY")
    report = progress_report(service, str(story["this"].id), SARA)
    assert "ON-THE-DAY" not in {m["reference"] for m in report["mandates"]}
