"""Reminder ladders: when each reminder about a deadline falls due, and which one to raise now.

Every open deadline (a date) has four rungs, each at the reminder time of day (09:00 by
default) in the Secretariat's time zone:

    upcoming   7 days before the deadline
    due_soon   1 day before
    overdue    1 day after (the deadline's day has passed)
    escalated  7 days after, addressed to the head

A ladder only moves up. When the scheduler finds several rungs past (it was down, or the
deadline was set late), it raises the latest one only: a person wants to hear "overdue",
not "upcoming, due soon, overdue" at once. A changed deadline starts a fresh ladder.

A deadline set by an imported event (one recorded after it happened) starts its ladder when the import
recorded it: the rungs that fell due before then are passed silently (nobody wants "overdue" for a
task settled in 2016), while the rungs still ahead are raised as usual. Live deadlines are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Mapping
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from domain.errors import NotFound


@dataclass(frozen=True)
class Rung:
    name: str
    days: int  # relative to the deadline's day
    escalates: bool = False  # addressed to the head rather than those responsible


RUNGS = (Rung("upcoming", -7), Rung("due_soon", -1), Rung("overdue", 1), Rung("escalated", 7, escalates=True))
RUNG_NAMES = tuple(r.name for r in RUNGS)
DEFAULT_TIME = time(9, 0)
HEAD = "role:head"
# A mention in a comment reaches its user as a reminder of this kind: not a deadline, so it has no ladder.
MENTION = "mention"
MENTIONED = "mentioned"


@dataclass(frozen=True)
class ReminderClock:
    """Where rungs fall in real time: the Secretariat's time zone and the time of day reminders go out."""

    tz: ZoneInfo = ZoneInfo("Europe/Ljubljana")
    at: time = DEFAULT_TIME

    def instant(self, due: date, rung: Rung) -> datetime:
        """The rung's instant, in UTC (the local wall time is kept across summer time changes)."""
        return self.day_instant(due + timedelta(days=rung.days))

    def day_instant(self, day: date) -> datetime:
        """When the rungs falling on `day` fall due, in UTC."""
        return datetime.combine(day, self.at, tzinfo=self.tz).astimezone(timezone.utc)

    def last_rung_day(self, now: datetime) -> date:
        """The latest rung day whose rungs have fallen due by `now`: today once the time of day has come."""
        local = now.astimezone(self.tz)
        return local.date() if local.time() >= self.at else local.date() - timedelta(days=1)


def rung_named(name: str) -> Rung:
    return RUNGS[RUNG_NAMES.index(name)]


def next_rung(last: str | None) -> Rung | None:
    """The rung after the last one raised (the first when none was), or None at the top."""
    index = 0 if last is None else RUNG_NAMES.index(last) + 1
    return RUNGS[index] if index < len(RUNGS) else None


def next_rung_day(due: date, last: str | None) -> date | None:
    """The day the ladder's next rung falls on: what the deadlines view keeps for a cheap tick."""
    rung = next_rung(last)
    return None if rung is None else due + timedelta(days=rung.days)


def rung_due(due: date, last: str | None, up_to: date) -> Rung | None:
    """The latest rung on or before the day `up_to` that is above the last one raised, if any."""
    above = RUNGS if last is None else RUNGS[RUNG_NAMES.index(last) + 1:]
    due_now = [r for r in above if due + timedelta(days=r.days) <= up_to]
    return due_now[-1] if due_now else None


def passed_at_start(clock: ReminderClock, due: date, started: datetime) -> str | None:
    """The last rung of a ladder that started at `started` (an import's recorded time) whose instant came
    before it: that rung and those below it are passed silently. None when every rung is still ahead."""
    passed = [r.name for r in RUNGS if clock.instant(due, r) < started]
    return passed[-1] if passed else None


def higher_rung(a: str | None, b: str | None) -> str | None:
    """The higher of two ladder positions (None is below every rung)."""
    if a is None or b is None:
        return a or b
    return a if RUNG_NAMES.index(a) >= RUNG_NAMES.index(b) else b


def restarted_ladders(starts: Mapping[str, Mapping[str, Any]], before: Mapping[str, date],
                      after: Mapping[str, date], *, imported: bool, at: datetime) -> dict[str, Any]:
    """The ladder starts after an event moved deadlines from `before` to `after` (kind -> due): a deadline an
    imported event set starts at the recorded time `at`; one a live event set starts as live ones do (no entry)."""
    starts = {kind: s for kind, s in starts.items() if after.get(kind) == s["due"]}
    for kind, due in after.items():
        if before.get(kind) != due:
            if imported:
                starts[kind] = {"due": due, "from": at}
            else:
                starts.pop(kind, None)
    return starts


def reminder_id(item_id: UUID | str, version: int) -> UUID:
    """A reminder's id: its event's item and version, so it is the same for every process that reads it,
    and a ladder that comes back to an earlier date (D1, D2, D1 again) never repeats an id."""
    return uuid5(NAMESPACE_URL, f"secretariat:reminder:{item_id}:{version}")


def unknown_reminder(reminder: UUID | str) -> NotFound:
    """What a caller is told of a reminder id they may not know: exactly what an id that names none gets.
    Reminder ids are computed (`reminder_id`), so anyone can make one for any item they know the id of."""
    return NotFound(f"no reminder {reminder}")


def ladder_position(reminders: Iterable[Mapping[str, Any]], deadline: str, due: date) -> str | None:
    """The last rung raised on the deadline's current ladder; a deadline that moved starts afresh."""
    raised = [RUNG_NAMES.index(r["rung"]) for r in reminders
              if r["deadline"] == deadline and r["due"] == due and not r.get("superseded")]
    return RUNG_NAMES[max(raised)] if raised else None


def superseded(reminders: Mapping[str, Mapping[str, Any]], dues: Mapping[str, date]) -> dict[str, Any] | None:
    """The reminders with those of moved (or gone) deadlines marked superseded (None if none changed):
    a deadline moved to D2 and back to D1 starts a fresh ladder on D1, as any move does."""
    moved = {key for key, r in reminders.items()
             if not r.get("superseded") and r["deadline"] != MENTION and dues.get(r["deadline"]) != r["due"]}
    if not moved:
        return None
    return {key: ({**r, "superseded": True} if key in moved else r) for key, r in reminders.items()}
