"""The Secretariat's business calendar: which days are working days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Container


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekends and the given holidays (e.g. Slovenian public holidays) are days off.

    `holidays` is any container of dates, so the composition root can hand in the
    `holidays` package's calendar without the domain importing it.
    """

    holidays: Container[date] = frozenset()
    closures: frozenset[date] = frozenset()
    # The years whose holidays are known: the `holidays` package covers a window (for Slovenia
    # 1992-2100), outside which a holiday would silently pass for a working day.
    known_years: range = range(1, 10000)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays and day not in self.closures

    def knows(self, day: date) -> bool:
        return day.year in self.known_years

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself does not count)."""
        day = start
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def subtract_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day before `start` (`start` itself does not count)."""
        day = start
        remaining = days
        while remaining > 0:
            day -= timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day
