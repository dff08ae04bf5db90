"""The business calendar: weekends, Slovenian public holidays (the real `holidays` package), closure days,
the 10-working-day decision deadline, and the Secretariat's time zone."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain.application import SecretariatApplication
from domain.calendar import BusinessCalendar
from domain.closures import CLOSURES_ID
from domain.errors import Forbidden, RuleBroken, ValidationFailed
from secretariat.bootstrap import business_calendar
from secretariat.demo import DEMO, record_end_of_year_closure
from secretariat.settings import Settings
from tests.conftest import FakeClock
from tests.factories import ADMIN, ALBA, AUDREY, ERIK, HANA, MILAN, SARA, request_values

SLOVENIA = business_calendar(Settings(holiday_country="SI"))
END_OF_YEAR = "End-of-year closure"


@pytest.fixture
def service(hasher, clock) -> SecretariatApplication:
    """The application in memory, on Slovenia's calendar, as the composition root builds it."""
    return SecretariatApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, hasher=hasher, clock=clock,
                                  calendar=SLOVENIA)


def submitted_at(service: SecretariatApplication, clock: FakeClock, instant: datetime) -> date:
    """The decision deadline of a support request submitted at `instant`."""
    clock.now = instant
    return service.submit_support_request(ALBA, request_values()).item.fields["decision_due"]


def at_nine(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=timezone.utc)


def close_end_of_year(service: SecretariatApplication, year: int) -> None:
    for day in (24, 28, 29, 30, 31):  # 2026: Thursday 24, Monday 28 to Thursday 31 (25 and 26 are holidays)
        service.close_day(date(year, 12, day), END_OF_YEAR, actor=HANA)


# -- weekends and holidays ---------------------------------------------------------------------


def test_weekends_are_days_off_and_weekdays_are_working_days():
    calendar = BusinessCalendar()
    week = [date(2026, 11, 23 + offset) for offset in range(7)]  # Monday to Sunday
    assert [calendar.is_working_day(day) for day in week] == [True] * 5 + [False] * 2


@pytest.mark.parametrize("day", [date(2026, 1, 1), date(2026, 1, 2), date(2026, 4, 6), date(2026, 4, 27),
                                 date(2026, 6, 25), date(2026, 12, 25), date(2027, 3, 29), date(2027, 2, 8)],
                         ids=str)
def test_slovenian_public_holidays_on_weekdays_are_days_off(day):
    assert day.weekday() < 5
    assert not SLOVENIA.is_working_day(day)


def test_easter_monday_moves_with_easter():
    assert SLOVENIA.holidays.get(date(2026, 4, 6)) == "Easter Monday"
    assert SLOVENIA.holidays.get(date(2027, 3, 29)) == "Easter Monday"
    assert SLOVENIA.is_working_day(date(2027, 4, 5))  # 2026's date is an ordinary Monday in 2027


def test_good_friday_is_a_working_day_in_slovenia():
    assert SLOVENIA.is_working_day(date(2026, 4, 3))


# -- the decision deadline: 10 working days after submission ------------------------------------


def test_the_decision_is_due_ten_working_days_after_a_monday_submission(service, clock):
    assert submitted_at(service, clock, at_nine(date(2026, 11, 23))) == date(2026, 12, 7)


def test_the_decision_deadline_skips_easter_monday(service, clock):
    # Wednesday 1 April 2026: 2, 3, (6 Easter Monday), 7, 8, 9, 10, 13, 14, 15, 16.
    assert submitted_at(service, clock, at_nine(date(2026, 4, 1))) == date(2026, 4, 16)
    # 2027: Easter Monday is 29 March. Wednesday 24 March: 25, 26, (29), 30, 31, 1, 2, 5, 6, 7, 8.
    assert submitted_at(service, clock, at_nine(date(2027, 3, 24))) == date(2027, 4, 8)


def test_the_decision_deadline_skips_the_end_of_year_closure_and_the_holidays_around_it(service, clock):
    assert submitted_at(service, clock, at_nine(date(2026, 12, 21))) == date(2027, 1, 6)  # holidays only
    close_end_of_year(service, 2026)
    # Monday 21 December: 22, 23, then closures 24 and 28-31, holidays 25 and 1 January (26, 2 January are
    # Saturdays), then 4, 5, 6, 7, 8, 11, 12, 13 January.
    assert submitted_at(service, clock, at_nine(date(2026, 12, 21))) == date(2027, 1, 13)


def test_a_submission_on_a_friday_counts_from_the_next_monday(service, clock):
    assert submitted_at(service, clock, at_nine(date(2026, 11, 27))) == date(2026, 12, 11)


def test_a_submission_on_a_holiday_or_a_closed_day_counts_from_the_next_working_day(service, clock):
    # The day of submission never counts, working or not: Easter Monday 6 April -> 7 ... 20 April.
    assert submitted_at(service, clock, at_nine(date(2026, 4, 6))) == date(2026, 4, 20)
    service.close_day(date(2026, 5, 4), "Move to new premises", actor=HANA)
    # Monday 4 May (closed): 5, 6, 7, 8, 11, 12, 13, 14, 15, 18.
    assert submitted_at(service, clock, at_nine(date(2026, 5, 4))) == date(2026, 5, 18)


# -- the time zone: deadlines count in Ljubljana, not in UTC ------------------------------------


def test_a_submission_at_23_30_utc_is_already_the_next_day_in_ljubljana(memory_service, clock):
    # Thursday 26 November 2026, 23:30 UTC is Friday 00:30 in Ljubljana (CET, UTC+1).
    thursday_night = datetime(2026, 11, 26, 23, 30, tzinfo=timezone.utc)
    assert submitted_at(memory_service, clock, thursday_night) == date(2026, 12, 11)  # counted from Friday
    assert submitted_at(memory_service, clock, thursday_night.replace(hour=22, minute=59)) == date(2026, 12, 10)


def test_in_summer_time_the_day_changes_at_22_00_utc(memory_service, clock):
    # Thursday 2 July 2026 (CEST, UTC+2): 21:59 UTC is still Thursday, 22:00 UTC is Friday.
    assert submitted_at(memory_service, clock, datetime(2026, 7, 2, 21, 59, tzinfo=timezone.utc)) == date(2026, 7, 16)
    assert submitted_at(memory_service, clock, datetime(2026, 7, 2, 22, 0, tzinfo=timezone.utc)) == date(2026, 7, 17)


# -- closure days: the rules -------------------------------------------------------------------


def test_a_closed_day_is_a_day_off_and_reopening_makes_it_a_working_day_again(service):
    day = date(2026, 12, 24)
    closure = service.close_day(day, END_OF_YEAR, actor=HANA)
    assert (closure.day, closure.reason, closure.closed_by) == (day, END_OF_YEAR, "hana")
    assert not service.business_calendar().is_working_day(day)
    assert [c.day for c in service.closures()] == [day]
    service.reopen_day(day, "The Head asked for a duty day", actor=ADMIN)
    assert service.business_calendar().is_working_day(day)
    assert service.closures() == []


def test_closing_or_reopening_a_day_requires_a_reason(service):
    with pytest.raises(ValidationFailed, match="requires a reason") as refused:
        service.close_day(date(2026, 12, 24), "   ", actor=HANA)
    assert refused.value.field == "reason"
    service.close_day(date(2026, 12, 24), END_OF_YEAR, actor=HANA)
    with pytest.raises(ValidationFailed, match="requires a reason"):
        service.reopen_day(date(2026, 12, 24), "", actor=HANA)
    assert [c.day for c in service.closures()] == [date(2026, 12, 24)]


def test_closing_a_day_already_closed_is_refused_and_keeps_the_first_reason(service):
    service.close_day(date(2026, 12, 24), END_OF_YEAR, actor=HANA)
    with pytest.raises(RuleBroken, match="already closed .End-of-year closure; by hana"):
        service.close_day(date(2026, 12, 24), "Another reason", actor=ADMIN)
    assert [c.reason for c in service.closures()] == [END_OF_YEAR]


@pytest.mark.parametrize("day, why", [(date(2026, 12, 26), "a Saturday"), (date(2026, 12, 27), "a Sunday"),
                                      (date(2026, 12, 25), "a public holiday")], ids=str)
def test_closing_a_weekend_or_a_holiday_is_refused_because_it_is_off_anyway(service, day, why):
    with pytest.raises(RuleBroken, match=f"is {why}: already a day off"):
        service.close_day(day, END_OF_YEAR, actor=HANA)
    assert list(service.events.get(CLOSURES_ID)) == []


def test_reopening_a_day_that_is_not_closed_is_refused(service):
    with pytest.raises(RuleBroken, match="2026-12-23 is not closed"):
        service.reopen_day(date(2026, 12, 23), "Open after all", actor=HANA)  # nothing recorded yet
    service.close_day(date(2026, 12, 24), END_OF_YEAR, actor=HANA)
    with pytest.raises(RuleBroken, match="2026-12-23 is not closed"):
        service.reopen_day(date(2026, 12, 23), "Open after all", actor=HANA)


@pytest.mark.parametrize("actor", [SARA, ERIK, ALBA, MILAN, AUDREY], ids=lambda a: a.username)
def test_only_the_head_and_admins_change_the_calendar(service, actor):
    with pytest.raises(Forbidden, match="needs one of: head, admin"):
        service.close_day(date(2026, 12, 24), END_OF_YEAR, actor=actor)
    service.close_day(date(2026, 12, 24), END_OF_YEAR, actor=HANA)
    with pytest.raises(Forbidden, match="needs one of: head, admin"):
        service.reopen_day(date(2026, 12, 24), "Open after all", actor=actor)
    assert [c.day for c in service.closures()] == [date(2026, 12, 24)]


def test_the_nth_working_day_is_asked_for_with_sensible_bounds(service, memory_service):
    assert service.working_day_after(date(2026, 4, 1), 10) == date(2026, 4, 16)
    assert service.working_day_after(date(2026, 4, 3), 1) == date(2026, 4, 7)
    for days in (0, 367):
        with pytest.raises(ValidationFailed, match="days is from 1 to 366"):
            service.working_day_after(date(2026, 4, 1), days)
    with pytest.raises(ValidationFailed, match="past the year 9999"):
        memory_service.working_day_after(date(9999, 12, 20), 10)  # weekends only: every year is known


def test_no_deadline_is_counted_nor_day_closed_where_the_holidays_are_unknown(service):
    # The `holidays` package knows Slovenia's public holidays from 1992 to 2100; past that, a holiday
    # would silently pass for a working day.
    assert SLOVENIA.known_years == range(1992, 2101)
    with pytest.raises(ValidationFailed, match=r"2101-01-\d\d is outside the years .* \(1992-2100\)"):
        service.working_day_after(date(2100, 12, 27), 10)
    with pytest.raises(ValidationFailed, match="1991-06-25 is outside") as refused:
        service.close_day(date(1991, 6, 25), "Independence", actor=HANA)
    assert refused.value.field == "day"


def test_today_is_the_day_in_ljubljana(service, clock):
    clock.now = datetime(2026, 11, 26, 23, 30, tzinfo=timezone.utc)
    assert service.today() == date(2026, 11, 27)


# -- the demo's end-of-year closure --------------------------------------------------------------


def test_the_demo_closes_the_working_days_from_24_to_31_december_once(service):
    assert record_end_of_year_closure(service, 2026, 2027) == 11
    assert [c.day.isoformat() for c in service.closures()] == [
        "2026-12-24", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31",  # 25 a holiday, 26-27 a weekend
        "2027-12-24", "2027-12-27", "2027-12-28", "2027-12-29", "2027-12-30", "2027-12-31"]  # 25-26 a weekend
    assert {c.closed_by for c in service.closures()} == {DEMO.username}
    assert record_end_of_year_closure(service, 2026, 2027) == 0


def test_the_demo_leaves_a_reopened_day_open(service):
    record_end_of_year_closure(service, 2026)
    service.reopen_day(date(2026, 12, 30), "A duty day before the new year", actor=HANA)
    assert record_end_of_year_closure(service, 2026) == 0
    assert service.business_calendar().is_working_day(date(2026, 12, 30))
