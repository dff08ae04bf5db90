"""The business calendar, mixed into the application service: closure days and working-day arithmetic.

The country's public holidays come from the composition root (the application's `calendar`);
closures are events on the one `Closures` aggregate. Every deadline is derived from
`business_calendar()`, which reads the closures as they stand in the store, so a day closed
by another process (the command line, another worker) counts at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.calendar import BusinessCalendar
from domain.closures import CLOSURES_ID, Closure, Closures
from domain.errors import Conflict, Forbidden, RuleBroken, ValidationFailed

# Closing a day moves the decision deadlines owed to the Parties, so it is the Head's call
# (the Head answers for those deadlines); admins keep the system's configuration, including
# the command line, which acts as an admin. Other staff and the EWG may ask; auditors never write.
CALENDAR_KEEPERS = ("head", "admin")
MAX_WORKING_DAYS = 366


class CalendarAdministration:
    # Provided by the application this is mixed into.
    calendar: BusinessCalendar
    clock: Callable[[], datetime]
    tz: ZoneInfo
    save: Callable[..., Any]
    repository: Any
    _calendar_cache: tuple[int, BusinessCalendar] | None = None

    def close_day(self, day: date, reason: str, *, actor: Actor) -> Closure:
        """Close a working day (head, admin): deadlines derived from now on skip it."""
        _refuse_unless_keeper(actor)
        closures = self._closures()
        calendar = self.business_calendar()
        _refuse_unless_known(calendar, day, "day")
        if day not in calendar.closures and not calendar.is_working_day(day):
            # Nothing to record: the day is off anyway, and the record stays a list of real changes.
            why = f"a {day:%A}" if day.weekday() >= 5 else "a public holiday"
            raise RuleBroken(f"{day.isoformat()} is {why}: already a day off")
        now = self.clock()
        closures = closures or Closures.start(actor=actor.username, now=now)
        closures.close(day, reason, actor=actor.username, now=now)
        self._save_closures(closures)
        return closures.days[day]

    def reopen_day(self, day: date, reason: str, *, actor: Actor) -> None:
        """Reopen a closed day (head, admin): deadlines derived from now on count it again."""
        _refuse_unless_keeper(actor)
        closures = self._closures()
        if closures is None:
            raise RuleBroken(f"{day.isoformat()} is not closed")
        closures.reopen(day, reason, actor=actor.username, now=self.clock())
        self._save_closures(closures)

    def closures(self) -> list[Closure]:
        """Every closed day, earliest first, with its reason and who closed it."""
        closures = self._closures(for_reading=True)
        return closures.listed() if closures else []

    def business_calendar(self) -> BusinessCalendar:
        """Weekends, the country's public holidays and the recorded closures, as they stand now."""
        closures = self._closures(for_reading=True)
        version = closures.version if closures else 0
        cached = self._calendar_cache
        if cached is None or cached[0] != version:
            # Rebuilt only when the closures changed: the load itself is one query for newer events.
            recorded = closures.closed_days() if closures else frozenset()
            cached = self._calendar_cache = (version, replace(self.calendar,
                                                              closures=self.calendar.closures | recorded))
        return cached[1]

    def today(self) -> date:
        """Today in the Secretariat's time zone: the day every deadline counts from."""
        return self.clock().astimezone(self.tz).date()

    def working_day_after(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (which does not count itself)."""
        if not 1 <= days <= MAX_WORKING_DAYS:
            raise ValidationFailed("days", f"days is from 1 to {MAX_WORKING_DAYS}")
        calendar = self.business_calendar()
        _refuse_unless_known(calendar, start, "from")
        try:
            answer = calendar.add_working_days(start, days)
        except OverflowError:
            raise ValidationFailed("from", f"{days} working days after {start.isoformat()} is past the year 9999") \
                from None
        _refuse_unless_known(calendar, answer, "from")
        return answer

    def _closures(self, *, for_reading: bool = False) -> Closures | None:
        try:
            # A reader takes the cached copy as it is (it never changes it); a writer gets its own.
            return self.repository.get(CLOSURES_ID, deepcopy_from_cache=not for_reading)
        except AggregateNotFoundError:
            return None

    def _save_closures(self, closures: Closures) -> None:
        try:
            self.save(closures)
        except IntegrityError:
            raise Conflict("the business calendar was changed at the same time; try again") from None


def _refuse_unless_known(calendar: BusinessCalendar, day: date, field: str) -> None:
    if not calendar.knows(day):
        years = calendar.known_years
        raise ValidationFailed(field, f"{day.isoformat()} is outside the years whose public holidays are known "
                                      f"({years.start}-{years.stop - 1})")


def _refuse_unless_keeper(actor: Actor) -> None:
    if not any(actor.has_role(role) for role in CALENDAR_KEEPERS):
        raise Forbidden(f"changing the business calendar needs one of: {', '.join(CALENDAR_KEEPERS)}")
