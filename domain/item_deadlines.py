"""An item's deadlines and their reminder ladders, mixed into `WorkflowItem` (domain/item.py).

A workflow says which deadlines its items have (`own_deadlines`, built with `deadline`); this keeps each one's
ladder: which rung was raised or passed, raising the next one due, acknowledging one. The ladders' bookkeeping
lives in the item's fields (`reminders`, and `LADDER_STARTS` for deadlines an import set), so a read model's copy
of the item knows it too. The reminder events themselves stay nested in `WorkflowItem`: their topics are stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.actor import SCHEDULER, Actor
from domain.errors import Forbidden, NotFound
from domain.reminders import (
    HEAD, ReminderClock, higher_rung, ladder_position, passed_at_start, reminder_id, restarted_ladders, rung_due,
    superseded,
)

# The field keeping, per deadline kind, when the ladder of a deadline set by an imported event starts
# (`{"due", "from"}`: see domain/reminders.py); kept in the fields so that read models' copies know it too.
LADDER_STARTS = "reminder_ladders_from"


class DeadlineLadders:
    """The deadline and reminder part of a workflow item (which provides `fields`, `state`, `trigger_event`, ...)."""

    fields: dict[str, Any]

    def dues_before(self, event: Any) -> dict[str, date]:
        """Each deadline's day before `event` applies, where its ladders' starts must be kept (see `keep_ladders`)."""
        # Only imported events, and events on items that have imported ladders, pay for this bookkeeping.
        if (event.occurred_at < event.timestamp or LADDER_STARTS in self.fields) and self.state:
            return self._dues()
        return {}

    def keep_ladders(self, event: Any, before: dict[str, date]) -> None:
        """After `event` applied: a deadline it moved starts a fresh ladder; a deadline an import set starts its
        ladder at the import (rungs fallen due before it pass silently)."""
        if self.fields.get("reminders"):
            moved = superseded(self.fields["reminders"], self._dues())
            if moved is not None:
                self.fields["reminders"] = moved
        imported = event.occurred_at < event.timestamp
        if imported or LADDER_STARTS in self.fields:
            starts = restarted_ladders(self.fields.get(LADDER_STARTS, {}), before, self._dues(), imported=imported,
                                       at=event.timestamp)
            if starts:
                self.fields[LADDER_STARTS] = starts
            else:
                self.fields.pop(LADDER_STARTS, None)

    def raise_due_reminders(self, clock: ReminderClock, now: datetime) -> list[dict[str, Any]]:
        """Raise, on each open deadline, the latest rung fallen due by `now` and not yet raised.

        Running it twice raises nothing the second time: the ladder's position is the item's own
        state, and two schedulers racing lose on the item's version, not on a view.
        """
        up_to = clock.last_rung_day(now)
        raised = []
        for line in self.deadlines(clock):
            rung = rung_due(line["due"], line["last_reminder"], up_to) if line["open"] else None
            if rung is None:
                continue
            reminder = {"reminder_id": str(reminder_id(self.id, self.version + 1)),  # the version of its event
                        "deadline": line["kind"], "due": line["due"], "rung": rung.name,
                        "instant": clock.instant(line["due"], rung),
                        "addressed_to": [HEAD] if rung.escalates else line["addressed_to"], "title": self.title}
            self.trigger_event(self.ReminderRaised, timestamp=now, actor=SCHEDULER, reason=None, data=reminder)
            raised.append(reminder)
        return raised

    def acknowledge_reminder(self, reminder: str, actor: Actor, *, now: datetime) -> bool:
        """Record that an addressee saw the reminder; False (and no event) if it already was."""
        entry = self.reminders.get(reminder)
        if entry is None:
            raise NotFound(f"no reminder {reminder} on this {self.workflow.title.lower()}")
        if not addressed_to(entry["addressed_to"], actor):
            raise Forbidden(f"the reminder is addressed to {', '.join(entry['addressed_to'])}")
        if entry["acknowledged_by"] is not None:
            return False
        self.trigger_event(self.ReminderAcknowledged, timestamp=now, actor=actor.username, reason=None,
                           data={"reminder_id": reminder})
        return True

    @property
    def reminders(self) -> dict[str, dict[str, Any]]:
        return self.fields.get("reminders", {})

    def deadlines(self, clock: ReminderClock = ReminderClock()) -> list[dict[str, Any]]:
        """The item's deadlines: `[{"kind", "due", "open", "addressed_to", "last_reminder"}]`.

        `last_reminder` is the last rung raised on the deadline's current ladder (None before the first), or,
        for a deadline an import set, the last rung passed silently before the import when that is higher.
        """
        starts = self.fields.get(LADDER_STARTS, {})
        lines = []
        for line in self.own_deadlines():
            last = ladder_position(self.reminders.values(), line["kind"], line["due"])
            start = starts.get(line["kind"])
            if start is not None and start["due"] == line["due"]:
                last = higher_rung(last, passed_at_start(clock, line["due"], start["from"]))
            lines.append({**line, "last_reminder": last})
        return lines

    def _dues(self) -> dict[str, date]:
        """Each deadline's kind and day, as the item stands."""
        return {line["kind"]: line["due"] for line in self.own_deadlines()}

    def own_deadlines(self) -> list[dict[str, Any]]:
        """`[{"kind", "due", "open", "addressed_to"}]`: subclasses say which deadlines they have."""
        return []


def deadline(kind: str, due: date | None, is_open: bool, addressed_to: list[str]) -> list[dict[str, Any]]:
    """A deadline line; `addressed_to` names who its reminders go to: `user:NAME` or `role:ROLE`."""
    return [] if due is None else [{"kind": kind, "due": due, "open": is_open, "addressed_to": addressed_to}]


def addressed_to(addressees: list[str], actor: Actor) -> bool:
    return any(a == f"user:{actor.username}" or (a.startswith("role:") and actor.has_role(a[5:]))
               for a in addressees)
