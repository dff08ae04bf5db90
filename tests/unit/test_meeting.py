"""The meeting aggregate: its dates and deadlines, its conclusions, who may run it, who may read it."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain.actor import Actor
from domain.calendar import BusinessCalendar
from domain.errors import Forbidden, InvalidTransition, RuleBroken, ValidationFailed
from domain.mandate import Mandate
from domain.meeting import Meeting
from domain.task import Task

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
TODAY = NOW.date()
CALENDAR = BusinessCalendar()
SARA = Actor("sara", frozenset({"secretariat"}))
EWA = Actor("ewa", frozenset({"ewg"}))
ALBA = Actor("alba", frozenset({"party"}), "AL")
MILAN = Actor("milan", frozenset({"party"}), "RS")
# Thursday 4 to Friday 5 June 2026.
COM = {"body": "com", "title": "Committee of Ministers", "number": "19th", "place": "Sofia",
       "starts_on": date(2026, 6, 4), "ends_on": date(2026, 6, 5), "participants": ["AL", "BG", "SELEC"]}


def planned(actor: Actor = SARA, **values) -> Meeting:
    given = {**COM, **values}
    return Meeting.start_new(actor, given, now=NOW, derived=Meeting.derived_on_creation(TODAY, CALENDAR, given))


def convened(**values) -> Meeting:
    meeting = planned(**values)
    meeting.act("convene", SARA, {}, now=NOW)
    return meeting


def test_planning_derives_both_deadlines_in_working_days_from_the_dates():
    meeting = planned()
    # Ten working days before Thursday 4 June is Thursday 21 May; ten after Friday 5 June is Friday 19 June.
    assert meeting.fields["documents_due"] == date(2026, 5, 21)
    assert meeting.fields["minutes_due"] == date(2026, 6, 19)
    assert (meeting.fields["documents_due_days"], meeting.fields["minutes_due_days"]) == (10, 10)
    assert [(d["kind"], d["due"], d["open"]) for d in meeting.deadlines()] == [
        ("documents_due", date(2026, 5, 21), True), ("minutes_due", date(2026, 6, 19), False)]


def test_an_ewg_meeting_wants_its_documents_five_working_days_ahead_unless_told_otherwise():
    assert planned(body="ewg").fields["documents_due"] == date(2026, 5, 28)
    assert planned(body="ewg", documents_due_days=2).fields["documents_due"] == date(2026, 6, 2)


def test_a_meeting_cannot_end_before_it_starts():
    with pytest.raises(ValidationFailed) as refused:
        planned(ends_on=date(2026, 6, 3))
    assert refused.value.field == "ends_on"


def test_a_two_letter_participant_must_be_a_party():
    with pytest.raises(ValidationFailed, match="XX is not a Contracting Party"):
        planned(participants=["AL", "XX"])


def test_conclusions_are_numbered_from_one_in_the_order_recorded():
    meeting = convened()
    meeting.act("record_conclusion", SARA, {"conclusion_text": "Adopt the MoU", "tasks_someone": True}, now=NOW)
    meeting.act("record_conclusion", SARA, {"conclusion_text": "Thank the host"}, now=NOW)
    assert meeting.conclusions == {
        "1": {"number": 1, "text": "Adopt the MoU", "tasks_someone": True, "made": []},
        "2": {"number": 2, "text": "Thank the host", "tasks_someone": False, "made": []}}
    assert "conclusion_text" not in meeting.fields


def test_conclusions_are_recorded_only_while_the_meeting_is_convened():
    with pytest.raises(InvalidTransition):
        planned().act("record_conclusion", SARA, {"conclusion_text": "Too early"}, now=NOW)


def test_a_mandate_made_from_a_conclusion_is_recorded_on_the_meeting():
    meeting = convened()
    meeting.act("record_conclusion", SARA, {"conclusion_text": "Draft the strategy"}, now=NOW)
    mandate = Mandate.start_new(SARA, {"reference": "CoM-19/1", "title": "Strategy", "decided_on": date(2026, 6, 5),
                                       "assigned_to": "secretariat", "meeting_id": str(meeting.id),
                                       "conclusion": 1}, now=NOW)
    meeting.child_created(mandate, Mandate.links[0], actor=SARA, now=NOW)
    assert meeting.conclusions["1"]["made"] == [{"collection": "mandates", "id": str(mandate.id)}]
    assert type(meeting.pending_events[-1]).__name__ == "ConclusionActedOn"


def test_a_child_naming_a_conclusion_the_meeting_does_not_have_is_refused():
    meeting = convened()
    task = Task.start_new(EWA, {"title": "Survey", "meeting_id": str(meeting.id), "conclusion": 3}, now=NOW)
    version = meeting.version
    with pytest.raises(ValidationFailed, match="has no conclusion 3") as refused:
        meeting.child_created(task, Task.links[0], actor=EWA, now=NOW)
    assert refused.value.field == "conclusion" and meeting.version == version


@pytest.mark.parametrize("values,missing", [({"meeting_id": "x"}, "conclusion"), ({"conclusion": 1}, "meeting_id")])
def test_a_task_names_its_meeting_and_conclusion_together(values, missing):
    with pytest.raises(ValidationFailed) as refused:
        Task.start_new(EWA, {"title": "Survey", **values}, now=NOW)
    assert refused.value.field == missing


def test_the_ewg_runs_its_own_meetings_and_not_the_committees():
    meeting = planned(EWA, body="ewg")
    meeting.act("convene", EWA, {}, now=NOW)
    meeting.act("record_conclusion", EWA, {"conclusion_text": "Share the threat assessment"}, now=NOW)
    meeting.act("conclude", EWA, {}, now=NOW)
    assert meeting.state == "concluded"
    with pytest.raises(Forbidden):
        planned(EWA)
    with pytest.raises(Forbidden):
        planned().act("convene", EWA, {}, now=NOW)


def test_postponing_moves_the_dates_and_both_deadlines_and_needs_a_reason():
    meeting = convened()
    values = {"starts_on": date(2026, 9, 10), "ends_on": date(2026, 9, 11)}
    with pytest.raises(ValidationFailed, match="requires a reason"):
        meeting.act("postpone", SARA, values, now=NOW)
    derived = Meeting.derived_on_action("postpone", CALENDAR, meeting.view(), values)
    meeting.act("postpone", SARA, values, now=NOW, reason="The host asked", derived=derived)
    assert meeting.state == "planned"
    assert (meeting.fields["documents_due"], meeting.fields["minutes_due"]) == (date(2026, 8, 27), date(2026, 9, 25))


def test_cancelling_needs_a_reason_and_is_final():
    meeting = planned()
    meeting.act("cancel", SARA, {}, now=NOW, reason="No quorum")
    assert meeting.is_closed and meeting.deadlines()[0]["open"] is False
    with pytest.raises(InvalidTransition):
        meeting.act("convene", SARA, {}, now=NOW)


def test_the_minutes_are_due_after_the_meeting_until_recorded():
    meeting = convened()
    meeting.act("conclude", SARA, {}, now=NOW)
    assert [d["kind"] for d in meeting.deadlines() if d["open"]] == ["minutes_due"]
    meeting.act("record_minutes", SARA, {"minutes": "The Committee met."}, now=NOW)
    assert [d["kind"] for d in meeting.deadlines() if d["open"]] == []


def test_a_party_liaison_reads_only_the_meetings_their_party_takes_part_in():
    meeting = planned()
    assert meeting.may_be_read_by(ALBA) and not meeting.may_be_read_by(MILAN)
    assert Meeting.workflow.read_scope(MILAN) == {"party": "RS"}
    assert meeting.facets()["party"] == ["AL", "BG"]


def test_replay_gives_the_same_meeting():
    meeting = convened()
    meeting.act("record_conclusion", SARA, {"conclusion_text": "Adopt"}, now=NOW)
    replayed = None
    for event in meeting.collect_events():
        replayed = event.mutate(replayed)
    assert (replayed.state, replayed.fields) == (meeting.state, meeting.fields)



def test_a_meeting_that_has_concluded_something_cannot_be_cancelled():
    """Adjourned (postponed) after recording a conclusion, it stays on record: cancelling would drop what it decided
    (and the mandates made of it) from the reports, which skip cancelled meetings."""
    meeting = convened()
    meeting.act("record_conclusion", SARA, {"conclusion_text": "Adopt the programme"}, now=NOW)
    values = {"starts_on": date(2026, 9, 10), "ends_on": date(2026, 9, 11)}
    meeting.act("postpone", SARA, values, now=NOW, reason="Adjourned",
                derived=Meeting.derived_on_action("postpone", CALENDAR, meeting.view(), values))
    with pytest.raises(RuleBroken, match="conclusion"):
        meeting.act("cancel", SARA, {}, now=NOW, reason="No quorum")
    assert meeting.state == "planned"


def test_nothing_is_made_from_the_conclusions_of_a_cancelled_meeting():
    """Whatever its history, a cancelled meeting's conclusions task nobody."""
    meeting = convened()
    meeting.act("record_conclusion", SARA, {"conclusion_text": "Survey"}, now=NOW)
    meeting.state = "cancelled"  # as events stored before cancelling such a meeting was refused may have left it
    task = Task.start_new(EWA, {"title": "Survey", "meeting_id": str(meeting.id), "conclusion": 1}, now=NOW)
    version = meeting.version
    with pytest.raises(ValidationFailed, match="cancelled") as refused:
        meeting.child_created(task, Task.links[0], actor=EWA, now=NOW)
    assert refused.value.field == "meeting_id" and meeting.version == version
