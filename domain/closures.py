"""Closures: the days the Secretariat is closed besides weekends and public holidays.

The end-of-year closure, a move day, a day of mourning: each closing and reopening is an
event with its actor and reason, so an auditor sees who changed the business calendar,
when and why. There is one such aggregate, under a well-known id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from domain.cheap_copy import CheapDeepCopy
from domain.effective_time import EffectiveEvent, EffectiveTime
from domain.errors import RuleBroken, ValidationFailed
from domain.workflow import check_rule

CLOSURES_ID = uuid5(NAMESPACE_URL, "secretariat:calendar:closures")
MAX_REASON = 500


@dataclass(frozen=True)
class Closure:
    day: date
    reason: str
    closed_by: str
    closed_at: datetime


class Closures(CheapDeepCopy, EffectiveTime, Aggregate):
    # Not snapshotted: the state is keyed by date (not a JSON key), and a few closures a year
    # replay in no time; loads come from the application's aggregate cache anyway.

    class Event(EffectiveEvent, Aggregate.Event):
        actor: str
        occurred_at: datetime

    class Created(Event, Aggregate.Created):
        pass

    class DayClosed(Event):
        day: date
        reason: str

        def apply(self, closures: "Closures") -> None:
            closures.days[self.day] = Closure(self.day, self.reason, self.actor, self.timestamp)

    class DayReopened(Event):
        day: date
        reason: str

        def apply(self, closures: "Closures") -> None:
            del closures.days[self.day]

    def __init__(self) -> None:
        self.days: dict[date, Closure] = {}

    @classmethod
    def start(cls, *, actor: str, now: datetime) -> "Closures":
        """The (empty) record of closures, made by whoever closes the first day."""
        return cls._create(cls.Created, id=CLOSURES_ID, timestamp=now, actor=actor)

    def close(self, day: date, reason: str, *, actor: str, now: datetime) -> None:
        # Refused rather than a no-op: every event records a real change, and a caller whose
        # reason differs learns that it was not recorded (reopen first to change it).
        existing = self.days.get(day)
        if existing is not None:
            raise RuleBroken(f"{day.isoformat()} is already closed ({existing.reason}; by {existing.closed_by}); "
                             "reopen it first to change the reason")
        self.trigger_event(self.DayClosed, timestamp=now, actor=actor, day=day, reason=_checked(reason))

    def reopen(self, day: date, reason: str, *, actor: str, now: datetime) -> None:
        check_rule(day in self.days, f"{day.isoformat()} is not closed")
        self.trigger_event(self.DayReopened, timestamp=now, actor=actor, day=day, reason=_checked(reason))

    def closed_days(self) -> frozenset[date]:
        return frozenset(self.days)

    def listed(self) -> list[Closure]:
        return sorted(self.days.values(), key=lambda c: c.day)


def _checked(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("reason", "closing or reopening a day requires a reason")
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise ValidationFailed("reason", f"a reason has at most {MAX_REASON} characters and no NUL")
    return reason
