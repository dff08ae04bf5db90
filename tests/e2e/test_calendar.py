"""The business calendar over real HTTP and the command line: who may close days, what is refused, and
that the server counts a closure in the next deadline at once."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

import holidays
import pytest

from tests.e2e.conftest import SECRETARIAT, assert_problem, create, request_body

SLOVENIAN_HOLIDAYS = holidays.country_holidays("SI")


def _free_weekdays() -> Iterator[date]:
    """Working days far in the future (the last decade whose holidays are known), each handed out once,
    so tests never share a day."""
    day = date(2091, 1, 1)
    while True:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in SLOVENIAN_HOLIDAYS:
            yield day


FREE_WEEKDAYS = _free_weekdays()


def free_weekday() -> str:
    return next(FREE_WEEKDAYS).isoformat()


def closed_days(client) -> dict[str, dict]:
    response = client.get("/calendar/closures")
    assert response.status_code == 200, response.text
    return {c["day"]: c for c in response.json()}


def working_day(client, start: str | None = None, days: int = 10) -> str:
    response = client.get("/calendar/working-days", params={"days": days, **({"from": start} if start else {})})
    assert response.status_code == 200, response.text
    return response.json()["working_day"]


@pytest.mark.parametrize("user", ["hana", "admin"])
def test_the_head_and_admins_close_and_reopen_a_day_with_a_reason(as_user, user):
    client, day = as_user(user), free_weekday()
    day_before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    assert working_day(client, day_before, 1) == day

    closed = client.put(f"/calendar/closures/{day}", json={"reason": "Move to new premises"})
    assert closed.status_code == 201, closed.text
    assert {k: closed.json()[k] for k in ("day", "reason", "closed_by")} == {
        "day": day, "reason": "Move to new premises", "closed_by": user}
    assert closed_days(as_user("audrey"))[day]["reason"] == "Move to new premises"
    assert working_day(client, day_before, 1) > day

    reopened = client.delete(f"/calendar/closures/{day}", params={"reason": "The move is postponed"})
    assert reopened.status_code == 204, reopened.text
    assert day not in closed_days(client)
    assert working_day(client, day_before, 1) == day


@pytest.mark.parametrize("user", ["sara", "erik", "audrey", "alba"])
def test_other_roles_may_read_the_calendar_but_not_change_it(as_user, user):
    client, day, closed = as_user(user), free_weekday(), free_weekday()
    assert as_user("hana").put(f"/calendar/closures/{closed}", json={"reason": "Day of mourning"}).status_code == 201
    before = closed_days(client)

    assert_problem(client.put(f"/calendar/closures/{day}", json={"reason": "Staff outing"}), 403, "head, admin")
    assert_problem(client.delete(f"/calendar/closures/{closed}", params={"reason": "Open after all"}), 403)
    assert closed_days(client) == before
    assert before[closed]["closed_by"] == "hana" and day not in before


def test_a_bad_day_a_bad_count_or_a_missing_reason_is_422_and_changes_nothing(as_user):
    hana, day = as_user("hana"), free_weekday()
    before = closed_days(hana)
    for bad_day in ("2031-02-30", "20310203", "0", "tomorrow"):
        assert_problem(hana.put(f"/calendar/closures/{bad_day}", json={"reason": "Staff outing"}), 422, "day")
        assert_problem(hana.delete(f"/calendar/closures/{bad_day}", params={"reason": "x"}), 422, "day")
        assert_problem(hana.get("/calendar/working-days", params={"from": bad_day}), 422, "from")
    for body in ({}, {"reason": "   "}, {"reason": 7}, {"reason": "x" * 501}, {"reason": "ok", "extra": 1}):
        assert_problem(hana.put(f"/calendar/closures/{day}", json=body), 422)
    assert_problem(hana.delete(f"/calendar/closures/{day}"), 422, "reason")
    for days in (0, 367, "ten"):
        assert_problem(hana.get("/calendar/working-days", params={"days": days}), 422, "days")
    # Past the years whose public holidays are known, a holiday would pass for a working day.
    assert_problem(hana.put("/calendar/closures/2101-03-01", json={"reason": "Staff outing"}), 422, "2101-03-01")
    assert_problem(hana.get("/calendar/working-days", params={"from": "2100-12-27"}), 422, "2101-01-")
    assert closed_days(hana) == before


def test_closing_a_day_off_or_a_closed_day_and_reopening_an_open_day_are_409(as_user):
    hana, day = as_user("hana"), free_weekday()
    assert_problem(hana.put("/calendar/closures/2091-01-06", json={"reason": "Staff outing"}), 409,
                   "a Saturday: already a day off")
    assert_problem(hana.put("/calendar/closures/2091-12-25", json={"reason": "Staff outing"}), 409,
                   "a public holiday: already a day off")
    assert_problem(hana.delete(f"/calendar/closures/{day}", params={"reason": "Open"}), 409, "is not closed")
    assert hana.put(f"/calendar/closures/{day}", json={"reason": "Staff outing"}).status_code == 201
    assert_problem(hana.put(f"/calendar/closures/{day}", json={"reason": "Another reason"}), 409, "already closed")
    assert closed_days(hana)[day]["reason"] == "Staff outing"


def test_reading_the_calendar_needs_a_signed_in_user(anonymous):
    for path in ("/calendar/closures", "/calendar/working-days"):
        assert_problem(anonymous.get(path), 401)
    assert_problem(anonymous.put("/calendar/closures/2091-01-02", json={"reason": "x"}), 401)


def test_the_demo_recorded_the_end_of_year_closure_of_this_year_and_the_next(as_user):
    this_year = datetime.now(ZoneInfo("Europe/Ljubljana")).year
    expected = {d.isoformat() for year in (this_year, this_year + 1) for d in
                (date(year, 12, n) for n in range(24, 32)) if d.weekday() < 5 and d not in SLOVENIAN_HOLIDAYS}
    closures = closed_days(as_user("erik"))
    assert expected <= set(closures)
    assert {(closures[d]["reason"], closures[d]["closed_by"]) for d in expected} == {("End-of-year closure", "demo")}


def test_a_day_closed_on_the_command_line_moves_the_next_requests_decision_at_once(server, as_user):
    sara = as_user("sara")
    first = working_day(sara, days=1)  # the next working day: inside every new request's decision period
    due = working_day(sara)
    closed = server.cli("calendar", "close", first, "--reason", "Heating failure")
    assert closed.returncode == 0, closed.stderr
    try:
        moved = working_day(sara)
        assert moved > due
        assert create(as_user("alba"), "support-requests", request_body())["decision_due"] == moved
        shown = server.cli("calendar", "show", "--year", first[:4])
        assert shown.returncode == 0 and first in shown.stdout and "Heating failure" in shown.stdout
    finally:
        reopened = server.cli("calendar", "reopen", first, "--reason", "Heating repaired")
        assert reopened.returncode == 0, reopened.stderr
    assert working_day(sara) == due
    again = server.cli("calendar", "reopen", first, "--reason", "Heating repaired")
    assert again.returncode == 1 and "is not closed" in again.stderr + again.stdout


@pytest.mark.parametrize("command", [["calendar"], ["calendar", "show"], ["calendar", "close"],
                                     ["calendar", "reopen"]], ids=" ".join)
def test_every_calendar_command_answers_help(command):
    result = subprocess.run([str(SECRETARIAT), *command, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
