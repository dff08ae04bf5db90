"""Importing a past history on each real store: the good items whole, the bad ones not at all, nothing twice,
and no reminder for a rung that fell due before the import."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from domain.errors import NotFound
from importing import import_history_text
from tests.factories import ERIK, register_cast
from tests.integration.test_scheduler import close, project_all, scheduler_for


def line(ref, collection, action, actor, occurred_at, values=None, reason=None) -> str:
    return json.dumps({"ref": ref, "collection": collection, "action": action, "actor": actor,
                       "occurred_at": occurred_at, "values": values or {}, "reason": reason})


MANDATE = {"reference": "CoM-2015-05-05/1", "title": "Support Parties", "decided_on": "2015-05-05",
           "assigned_to": "secretariat", "meeting": "CoM, Sofia"}
TASK = {"title": "Catalogue agreements", "assignee": "sara", "due": "2015-09-01"}

HISTORY = "\n".join([
    "# the Secretariat's 2015 records",                                                            # 1
    line("m1", "mandates", "record", "sara", "2015-05-05T10:00:00+02:00", MANDATE),                # 2
    line("t1", "tasks", "create", "erik", "2015-06-01T09:00:00Z", {**TASK, "mandate_id": {"$ref": "m1"}}),  # 3
    line("t1", "tasks", "start", "sara", "2015-06-02T09:00:00Z"),                                  # 4
    "",                                                                                            # 5
    line("t2", "tasks", "create", "erik", "2015-06-01T09:00:00Z", TASK),                           # 6
    line("t2", "tasks", "approve", "erik", "2015-06-03T09:00:00Z"),                                # 7: not in review
    line("t3", "tasks", "create", "nobody", "2015-06-01T09:00:00Z", TASK),                         # 8: no such user
    "{not json",                                                                                   # 9
    line("m2", "mandates", "record", "sara", "2015-07-01T10:00:00Z",
         {**MANDATE, "reference": "CoM-2015-07-01/1", "decided_on": "July 2015"}),                 # 10: not a date
    line("t5", "tasks", "create", "erik", "2015-07-02T09:00:00Z", {**TASK, "mandate_id": {"$ref": "m2"}}),  # 11
    line("t6", "tasks", "create", "erik", "2015-07-02T09:00:00Z", {**TASK, "mandate_id": {"$ref": "m1"}}),  # 12
    line("t6", "tasks", "start", "sara", "2015-07-03T09:00:00Z"),                                  # 13
    line("t6", "tasks", "block", "sara", "2015-07-04T09:00:00Z"),                                  # 14: no reason
    line("t7", "tasks", "create", "erik", "2015-07-02T09:00:00Z", {**TASK, "mandate_id": {"$ref": "t9"}}),  # 15
])


@pytest.fixture
def service(service):
    register_cast(service)
    return service


def test_a_history_imports_its_good_items_whole_and_reports_the_bad_lines(service):
    report = import_history_text(service, HISTORY)

    assert report.items_imported == 2 and report.lines == 13
    assert [(r.line, r.ref) for r in report.refusals] == [
        (7, "t2"), (8, "t3"), (9, None), (10, "m2"), (11, "t5"), (14, "t6"), (15, "t7")]
    reasons = {r.ref: r.reason for r in report.refusals}
    assert "cannot approve" in reasons["t2"]
    assert "'nobody' is not a user" in reasons["t3"]
    assert "decided_on" in reasons["m2"] and "'m2', which was refused (line 10)" in reasons["t5"]
    assert "reason" in reasons["t6"] and "'t9' names no item of an earlier line" in reasons["t7"]
    mandates = service.get_item("mandates", service.aggregates["mandates"].id_for("CoM-2015-05-05/1"), ERIK)
    (task_id,) = mandates.fields["tasks"]  # t6 was refused whole: the mandate never heard of it
    task = service.get_item("tasks", task_id, ERIK)
    assert task.state == "in_progress" and task.occurred_on.year == 2015
    for ref in ("t2", "t6"):
        with pytest.raises(NotFound):
            service.get_item("tasks", _id_of(ref), ERIK)


def test_importing_the_same_history_again_adds_nothing(service):
    first = import_history_text(service, HISTORY)
    head = service.recorder.max_notification_id()

    again = import_history_text(service, HISTORY)

    assert service.recorder.max_notification_id() == head
    assert again.items_imported == 0 and again.events == 0 and sorted(again.already_present) == ["m1", "t1"]
    assert [r.line for r in again.refusals] == [r.line for r in first.refusals]


def test_a_dry_run_reports_the_same_and_records_nothing(service):
    head = service.recorder.max_notification_id()
    report = import_history_text(service, HISTORY, dry_run=True)
    assert report.items_imported == 2 and report.events > 0 and len(report.refusals) == 7
    assert service.recorder.max_notification_id() == head


def test_csv_rows_each_create_one_item(service):
    text = ("ref,actor,occurred_at,title,assignee,due,partners\n"
            "c1,erik,2016-01-10T09:00:00+01:00,Catalogue,sara,2016-03-01,UNODC;Interpol\n"
            "c2,erik,2016-01-10T09:00:00+01:00,Bad date,sara,2016-13-01,\n")
    report = import_history_text(service, text, format="csv", collection="tasks")
    assert report.items_imported == 1 and [(r.line, r.ref) for r in report.refusals] == [(3, "c2")]
    assert service.get_item("tasks", _id_of("c1"), ERIK).fields["partners"] == ["UNODC", "Interpol"]


def test_an_imported_deadline_raises_no_reminder_for_rungs_before_the_import_but_does_for_those_ahead(
        service, store_env, hasher, clock):
    # Now: 23 Nov 2026, 10:00 in Ljubljana. Due 25 Nov: "upcoming" (18 Nov) fell due before the import,
    # "due_soon" (24 Nov, 09:00) is ahead; the 2015 task's whole ladder lies before it.
    due = (clock.now + timedelta(days=2)).date().isoformat()
    history = "\n".join([line("soon", "tasks", "create", "erik", "2026-11-01T09:00:00Z", {**TASK, "due": due}),
                         line("old", "tasks", "create", "erik", "2015-06-01T09:00:00Z", TASK)])
    assert import_history_text(service, history).ok
    scheduler = scheduler_for(store_env, hasher, clock)
    try:
        project_all(scheduler)
        assert scheduler.tick() == []
        clock.advance(hours=23)  # 24 Nov, 09:00 in Ljubljana
        project_all(scheduler)
        raised = scheduler.tick()
        assert [(r["item_id"], r["rung"]) for r in raised] == [(str(_id_of("soon")), "due_soon")]
    finally:
        close(scheduler)


def test_a_live_deadline_still_raises_the_latest_rung_fallen_due(service, clock):
    from tests.factories import task_values
    item = service.create_task(ERIK, task_values(due=(clock.now + timedelta(days=2)).date())).item
    assert [r["rung"] for r in service.raise_reminders([item.id])] == ["upcoming"]


def _id_of(ref: str):
    from uuid import uuid5
    from importing.importer import IMPORT_NAMESPACE
    return uuid5(IMPORT_NAMESPACE, ref)


def test_two_refs_that_would_be_one_item_are_refused_with_the_second(service):
    twice = "\n".join([line("a", "mandates", "record", "sara", "2015-05-05T10:00:00Z", MANDATE),
                       line("b", "mandates", "record", "sara", "2015-05-06T10:00:00Z", MANDATE)])
    report = import_history_text(service, twice)
    assert report.items_imported == 1 and [(r.line, r.ref) for r in report.refusals] == [(2, "b")]
    assert "same mandate as 'a'" in report.refusals[0].reason
