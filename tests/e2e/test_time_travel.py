"""Any item as it was at any version or past instant, and its full history, oldest first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.e2e.conftest import act, assert_item, assert_problem, create, history_of, item_in_state, task_body


def _instant(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    assert instant.tzinfo is not None, f"{text} has no UTC offset"
    return instant


def _task_with_three_events(as_user) -> tuple[dict, list[dict]]:
    sara = as_user("sara")
    task = create(sara, "tasks", task_body(title="Prepare the EWG meeting"))
    act(sara, "tasks", task["id"], "start")
    act(sara, "tasks", task["id"], "block", {"reason": "Waiting for the agenda"})
    return task, history_of(sara, "tasks", task["id"])


def test_a_past_version_shows_the_item_as_it_was_then_with_no_actions_offered(as_user):
    sara = as_user("sara")
    task, _ = _task_with_three_events(as_user)
    url = f"/tasks/{task['id']}"
    first = assert_item(sara.get(url, params={"version": 1}), state="open", version=1, allowed=[])
    assert first["title"] == "Prepare the EWG meeting" and first["created_at"] == task["created_at"]
    assert_item(sara.get(url, params={"version": 2}), state="in_progress", version=2, allowed=[])
    assert_item(sara.get(url, params={"version": 3}), state="blocked", version=3, allowed=[])
    assert_item(sara.get(url), state="blocked", version=3, allowed={"assign", "unblock", "reschedule"})


def test_as_of_an_instant_between_two_events_shows_the_state_then(as_user):
    sara = as_user("sara")
    task, events = _task_with_three_events(as_user)
    url = f"/tasks/{task['id']}"
    at = [_instant(e["at"]) for e in events]
    assert at == sorted(at) and at[0] < at[1] < at[2]

    between_1_and_2 = at[0] + (at[1] - at[0]) / 2
    between_2_and_3 = at[1] + (at[2] - at[1]) / 2
    assert_item(sara.get(url, params={"as_of": between_1_and_2.isoformat()}), state="open", version=1, allowed=[])
    assert_item(sara.get(url, params={"as_of": between_2_and_3.isoformat()}), state="in_progress", version=2)
    # The same instant written in Ljubljana's offset is the same instant.
    in_cet = between_2_and_3.astimezone(timezone(timedelta(hours=1)))
    assert_item(sara.get(url, params={"as_of": in_cet.isoformat()}), state="in_progress", version=2)
    # At an event's own instant, that event has happened.
    assert_item(sara.get(url, params={"as_of": events[1]["at"]}), state="in_progress", version=2)
    # Later than everything: the item as it is now.
    assert_item(sara.get(url, params={"as_of": (at[2] + timedelta(days=1)).isoformat()}), state="blocked",
                version=3)


def test_as_of_before_the_item_was_created_is_404(as_user):
    sara = as_user("sara")
    task, events = _task_with_three_events(as_user)
    before = _instant(events[0]["at"]) - timedelta(microseconds=1)
    assert_problem(sara.get(f"/tasks/{task['id']}", params={"as_of": before.isoformat()}), 404)
    assert_problem(sara.get(f"/tasks/{task['id']}", params={"as_of": "2008-07-17T09:00:00+02:00"}), 404)
    # Before 1900 is out of range (issue 10, item 12): 422, not "did not exist yet".
    assert_problem(sara.get(f"/tasks/{task['id']}", params={"as_of": "0001-01-01T00:00:00+01:00"}), 422, "as_of")


def test_history_lists_every_event_oldest_first_with_who_when_why_and_what(as_user):
    sara = as_user("sara")
    task, events = _task_with_three_events(as_user)
    assert [e["version"] for e in events] == [1, 2, 3]
    for event in events:
        assert {"version", "type", "at", "actor", "reason", "data"} <= set(event), event
        _instant(event["at"])
    assert [(e["type"], e["actor"], e["reason"]) for e in events] == [
        ("Task.Created", "sara", None), ("Task.Started", "sara", None),
        ("Task.Blocked", "sara", "Waiting for the agenda")]
    assert events[0]["data"]["title"] == "Prepare the EWG meeting"
    assert events[0]["data"]["due"] == task["due"] and events[0]["data"]["assignee"] == "sara"
    assert events[1]["data"] == {} and events[2]["data"] == {}
    assert events[0]["at"] == task["created_at"]
    current = sara.get(f"/tasks/{task['id']}").json()
    assert events[-1]["at"] == current["updated_at"]


def test_a_support_requests_history_shows_each_decision_with_its_reason_and_data(as_user):
    request = item_in_state(as_user, "support-requests", "approved")
    events = history_of(as_user("audrey"), "support-requests", request["id"])
    assert [(e["version"], e["type"], e["actor"]) for e in events] == [
        (1, "SupportRequest.Submitted", "alba"), (2, "SupportRequest.ScreeningStarted", "sara"),
        (3, "SupportRequest.DuplicationCheckRecorded", "sara"), (4, "SupportRequest.Approved", "hana")]
    assert events[0]["data"]["party"] == "AL" and events[0]["data"]["operational_involvement"] is False
    assert events[2]["data"] == {"duplicates_found": False}
    # Past versions replay the same way for the auditor.
    assert_item(as_user("audrey").get(f"/support-requests/{request['id']}", params={"version": 3}),
                state="screening", version=3)
