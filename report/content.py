"""The progress report for a meeting, as data: what the Committee (or the EWG) reads at that meeting.

Replayed as of the meeting's date, the start of its first day where the Secretariat is: every
mandate in force then, with its state and its tasks' progress; what changed since the previous
meeting of the same body (the latest earlier one, by first day, not cancelled) up to this one:
mandates recorded, state changes of mandates and tasks, tasks done, and what was overdue on the
day; what became of the previous meeting's conclusions; and the support given to Parties under
the 2015 decision, as counts by Party, kind and outcome, never a request's detail.

The reader sees only what they may read: a meeting they may not read is unknown (the same 404
as an id that names nothing), mandates and tasks are those they may read, and the support
counts are of the requests they may read, or, for a reader of no request at all (the EWG), of
all of them, because a count is the Committee's figure and names no request. A Party liaison
reads only their own Party's requests, so counts only those: nothing of another Party's.

The renderers (markdown.py, docx.py, html.py) take this structure as it is, so every format
carries the same figures.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, tzinfo
from typing import Any, Iterable
from uuid import UUID

from domain.actor import Actor
from domain.application import SecretariatApplication
from domain.item import WorkflowItem
from domain.workflow import Workflow
from projections.queries import progress_summary
from report.replay import ItemLog, Step, Timeline

BODIES = {"com": "Committee of Ministers", "ewg": "Expert Working Group", "partner": "Partner organisation",
          "other": "Other"}
# What became of a support request, as a Committee reads it, by the request's state.
OUTCOMES = {"submitted": "pending", "screening": "pending", "needs_info": "pending", "approved": "approved",
            "in_delivery": "approved", "delivered": "delivered", "closed": "delivered", "rejected": "rejected",
            "withdrawn": "withdrawn"}
# The parts of the item log the report reads; each is a collection of the application.
MEETINGS, MANDATES, TASKS, SUPPORT = "meetings", "mandates", "tasks", "support-requests"
CHANGED = (MANDATES, TASKS)  # whose state changes the report lists


def meeting_day_starts(day: date, tz: tzinfo) -> datetime:
    """The instant a meeting's day begins where the Secretariat is: the report is as of it."""
    return datetime.combine(day, time.min, tzinfo=tz)


def progress_report(service: SecretariatApplication, meeting_id: str, actor: Actor) -> dict[str, Any]:
    """The report for the meeting, for this reader; NotFound (as for any unknown id) if they may not read it."""
    meeting = service.visible_item(MEETINGS, meeting_id, actor)
    log = ItemLog(service)
    return _Report(log, actor, service.tz).build(meeting)


class _Report:
    def __init__(self, log: ItemLog, actor: Actor, tz: tzinfo) -> None:
        self.log, self.actor, self.tz = log, actor, tz

    def build(self, meeting: WorkflowItem) -> dict[str, Any]:
        previous = self._previous(meeting)
        until = meeting_day_starts(meeting.fields["starts_on"], self.tz)
        since = meeting_day_starts(previous.fields["starts_on"], self.tz) if previous is not None else None
        day = meeting.fields["starts_on"]
        mandates = self._mandates(since, until)
        state_changes = self._state_changes(since, until)
        changes = {"new_mandates": [m for m in mandates if m["new"]],
                   "state_changes": state_changes,
                   "tasks_done": self._tasks_done(state_changes, until),
                   "overdue": self._overdue(until, day)}
        support = self._support(until)
        in_force = [m for m in mandates if m["in_force"]]
        return {
            "meeting": _meeting_summary(meeting),
            "previous_meeting": _meeting_summary(previous) if previous is not None else None,
            "since": since, "as_of": until,
            "mandates": mandates,
            "changes": changes,
            "conclusions": self._conclusions(previous, until) if previous is not None else [],
            "support": support,
            "figures": {"mandates_in_force": len(in_force),
                        "mandates_by_state": dict(sorted(Counter(m["state"] for m in in_force).items())),
                        "new_mandates": len(changes["new_mandates"]),
                        "state_changes": len(changes["state_changes"]),
                        "tasks_done": len(changes["tasks_done"]),
                        "overdue": len(changes["overdue"]),
                        "support_requests": sum(row["count"] for row in support["rows"])},
        }

    # -- the meetings ----------------------------------------------------------------------------------

    def _previous(self, meeting: WorkflowItem) -> WorkflowItem | None:
        """The latest meeting of the same body the reader may read, starting before this one, not cancelled."""
        earlier = [m for m in self._now(MEETINGS) if m.id != meeting.id and m.state != "cancelled"
                   and m.fields["body"] == meeting.fields["body"]
                   and m.fields["starts_on"] < meeting.fields["starts_on"]]
        return max(earlier, key=lambda m: (m.fields["starts_on"], m.fields["ends_on"], m.created_on), default=None)

    def _conclusions(self, previous: WorkflowItem, until: datetime) -> list[dict[str, Any]]:
        """Each conclusion of the previous meeting on record by this meeting, and what had been made of it.

        A meeting entered in the record only after this one's date (an old meeting recorded late) had none."""
        as_then = self.log.timelines(MEETINGS)[previous.id].as_of(until)
        if as_then is None:
            return []
        rows = []
        for key in sorted(as_then.fields.get("conclusions", {}), key=int):
            conclusion = as_then.fields["conclusions"][key]
            made = [row for row in (self._made(link, until) for link in conclusion["made"]) if row is not None]
            rows.append({"number": conclusion["number"], "text": conclusion["text"],
                         "tasks_someone": conclusion["tasks_someone"], "made": made})
        return rows

    def _made(self, link: dict[str, str], until: datetime) -> dict[str, Any] | None:
        timeline = self._timeline(link["collection"], link["id"])
        item = timeline.as_of(until) if timeline is not None else None
        if item is None or not self._may_read(timeline):
            return None
        return {"collection": link["collection"], "id": str(item.id), "title": item.title, "state": item.state}

    # -- mandates and tasks ----------------------------------------------------------------------------

    def _mandates(self, since: datetime | None, until: datetime) -> list[dict[str, Any]]:
        """Mandates in force at `until`, and those that ended between the meetings, oldest first."""
        workflow = self._workflow(MANDATES)
        rows = []
        for timeline, mandate in self._as_of(MANDATES, until):
            before = timeline.as_of(since) if since is not None else None
            in_force = mandate.state not in workflow.terminal
            ended_since = not in_force and (before is None or before.state not in workflow.terminal)
            if not (in_force or ended_since):
                continue
            rows.append({"id": str(mandate.id), "reference": mandate.fields["reference"],
                         "title": mandate.fields["title"], "state": mandate.state,
                         "state_before": before.state if before is not None else None, "new": before is None,
                         "in_force": in_force, "recorded_at": timeline.events[0].occurred_at,  # the day it was recorded, not imported
                         "report_due": mandate.fields.get("report_due"),
                         "progress": progress_summary(self._task_states(mandate.fields.get("tasks", {}), until))})
        return sorted(rows, key=lambda row: (row["recorded_at"], row["reference"]))

    def _task_states(self, linked: dict[str, str], until: datetime) -> dict[str, int]:
        """The mandate's linked tasks by their state at `until`, as the dashboard's progress counts them."""
        states: Counter[str] = Counter()
        for task_id in linked:
            timeline = self._timeline(TASKS, task_id)
            task = timeline.as_of(until) if timeline is not None else None
            if task is not None:
                states[task.state] += 1
        return dict(sorted(states.items()))

    def _state_changes(self, since: datetime | None, until: datetime) -> list[dict[str, Any]]:
        """Every move of a mandate or task from one state to another between the instants, in time order."""
        rows = []
        for collection in CHANGED:
            for timeline, item in self._as_of(collection, until):
                rows += [_change(collection, item, step) for step in timeline.steps_between(since, until)
                         if step.state_before is not None and step.state_before != step.state_after]
        return sorted(rows, key=lambda row: (row["at"], row["id"]))

    def _tasks_done(self, state_changes: list[dict[str, Any]], until: datetime) -> list[dict[str, Any]]:
        done = [row for row in state_changes if row["collection"] == TASKS and row["to"] == "done"]
        return [{**row, "mandate_id": self._timeline(TASKS, row["id"]).as_of(until).fields.get("mandate_id")}
                for row in done]

    def _overdue(self, until: datetime, day: date) -> list[dict[str, Any]]:
        """Deadlines still open at `until` whose day had passed by the meeting's first day."""
        rows = [{"collection": collection, "id": str(item.id), "title": item.title, "state": item.state,
                 "deadline": line["kind"], "due": line["due"]}
                for collection in CHANGED for _, item in self._as_of(collection, until)
                for line in item.own_deadlines() if line["open"] and line["due"] < day]
        return sorted(rows, key=lambda row: (row["due"], row["id"], row["deadline"]))

    # -- support to Parties ----------------------------------------------------------------------------

    def _support(self, until: datetime) -> dict[str, Any]:
        """Requests submitted by `until`, counted by Party, kind and outcome then: no request's detail."""
        workflow = self._workflow(SUPPORT)
        scope = workflow.read_scope(self.actor)
        counted = [item for _, item in self._as_of(SUPPORT, until, readable=scope is not None)]
        counts = Counter((r.fields["party"], r.fields["kind"], OUTCOMES.get(r.state, r.state)) for r in counted)
        return {"scope": scope.get("party") if scope else None,
                "rows": [{"party": p, "kind": k, "outcome": o, "count": n} for (p, k, o), n in sorted(counts.items())],
                "by_outcome": _by(counts, 2),
                "by_party": _by(counts, 0)}

    # -- reading the log as this reader ----------------------------------------------------------------

    def _workflow(self, collection: str) -> Workflow:
        return self.log.aggregates[collection].workflow

    def _as_of(self, collection: str, until: datetime, *, readable: bool = True
               ) -> Iterable[tuple[Timeline, WorkflowItem]]:
        """The items of the collection that existed at `until` (only those the reader may read, if `readable`)."""
        for timeline in self.log.timelines(collection).values():
            if readable and not self._may_read(timeline):
                continue
            item = timeline.as_of(until)
            if item is not None:
                yield timeline, item

    def _now(self, collection: str) -> list[WorkflowItem]:
        """The items of the collection the reader may read, as they are now."""
        return [t.current() for t in self.log.timelines(collection).values() if self._may_read(t)]

    def _may_read(self, timeline: Timeline) -> bool:
        """As `visible_item` decides it: on the item as it is now."""
        return timeline.current().may_be_read_by(self.actor)

    def _timeline(self, collection: str, item_id: str) -> Timeline | None:
        try:
            return self.log.by_collection.get(collection, {}).get(UUID(str(item_id)))
        except ValueError:
            return None


def _by(counts: Counter, index: int) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for key, n in counts.items():
        totals[key[index]] += n
    return dict(sorted(totals.items()))


def _change(collection: str, item: WorkflowItem, step: Step) -> dict[str, Any]:
    return {"collection": collection, "id": str(item.id), "title": item.title, "from": step.state_before,
            "to": step.state_after, "at": step.at, "by": step.actor}


def _meeting_summary(meeting: WorkflowItem) -> dict[str, Any]:
    f = meeting.fields
    return {"id": str(meeting.id), "body": f["body"], "body_name": BODIES.get(f["body"], f["body"]),
            "title": meeting.title, "number": f.get("number"), "place": f.get("place"), "state": meeting.state,
            "starts_on": f["starts_on"], "ends_on": f["ends_on"]}
