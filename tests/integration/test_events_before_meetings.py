"""Mandates and tasks recorded before meetings existed read as they did (issue 11).

tests/fixtures/events-before-meetings.db was written by the code before meetings (see
tests/fixtures/write_events_before_meetings.py): a mandate, a task that served it and was approved,
and a task of its own. Its stored events are copied, as they are, into a fresh store of each kind.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.lineage import origin
from tests.factories import AUDREY, SARA

FIXTURE = Path(__file__).parent.parent / "fixtures" / "events-before-meetings.db"
MANDATE, TASK, OTHER_TASK = ("81a13c9f-eed6-561d-a7ae-f3e190949acb", "2ad635af-0e65-4bd4-818a-18a7c8508407",
                             "8db62a26-cc77-4d61-ad7f-79654275099e")


def stored_before_meetings() -> list[StoredEvent]:
    with sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT originator_id, originator_version, topic, state FROM stored_events "
                            "ORDER BY rowid").fetchall()
    return [StoredEvent(UUID(oid), version, topic, state) for oid, version, topic, state in rows]


def test_mandates_and_tasks_stored_before_meetings_read_as_before(service):
    service.recorder.insert_events(stored_before_meetings())

    mandate = service.get_item("mandates", MANDATE, AUDREY)
    assert (mandate.state, mandate.version) == ("in_progress", 4)
    assert mandate.fields == {"reference": "CoM-2015-05-05/1", "title": "Support Contracting Parties",
                              "decided_on": date(2015, 5, 5), "meeting": "Committee of Ministers",
                              "assigned_to": "secretariat", "report_due": date(2026, 12, 15),
                              "tasks": {TASK: "done"}}
    assert [e["type"] for e in service.history("mandates", MANDATE, AUDREY)] == [
        "Mandate.Recorded", "Mandate.Started", "Mandate.TaskLinked", "Mandate.TaskSettled"]
    task = service.get_item("tasks", TASK, AUDREY)
    assert (task.state, task.fields["mandate_id"], task.fields["result"]) == ("done", MANDATE, "The catalogue")
    assert "meeting_id" not in task.fields and "conclusion" not in task.fields
    other = service.get_item("tasks", OTHER_TASK, AUDREY)
    assert (other.state, other.fields) == ("open", {"title": "Keep the list of experts", "partners": ["SELEC"]})

    # Their lineage names no meeting, and they go on as before.
    assert origin(service, "tasks", TASK, AUDREY)["meeting"] is None
    assert origin(service, "tasks", TASK, AUDREY)["mandate"]["id"] == MANDATE
    service.act("mandates", MANDATE, "report", SARA, {"summary": "Reported to the Committee"})
    assert service.get_item("mandates", MANDATE, AUDREY).state == "reported"
