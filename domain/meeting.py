"""Meeting: a meeting of the Committee of Ministers, the Expert Working Group or a partner.

The Secretariat prepares the meetings and executes what they conclude: a conclusion that
tasks someone becomes a mandate (recorded with `meeting_id` and `conclusion`) or an EWG
task, and the meeting keeps the list of what was made from each of its conclusions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from domain.actor import PARTIES, Actor
from domain.calendar import BusinessCalendar
from domain.errors import ValidationFailed
from domain.item import WorkflowItem
from domain.item_deadlines import deadline
from domain.workflow import Action, Field, Link, Precondition, Workflow

STAFF = ("secretariat", "head")
# The EWG plans and runs its own meetings, not the Committee's.
RUNS = (*STAFF, "ewg_body")

# A meeting adjourned (postponed) after recording conclusions took place: cancelling it would drop what it
# decided, and the mandates and tasks made of it, from the reports, which skip cancelled meetings.
NOTHING_CONCLUDED_YET = Precondition(
    lambda item: not item.get("conclusions"),
    lambda item: f"the meeting has recorded {len(item['conclusions'])} conclusion(s), so it took place",
    "postpone it to new dates instead")
BODIES = ("com", "ewg", "partner", "other")
# Working days before the start that the agenda and documents are due, by body (a field overrides it).
DOCUMENTS_DUE_DAYS = {"com": 10}
DEFAULT_DOCUMENTS_DUE_DAYS = 5
DEFAULT_MINUTES_DUE_DAYS = 10
MOST_DAYS = 250  # about a working year: more is a typing mistake

WORKFLOW = Workflow(
    name="meeting",
    collection="meetings",
    title="Meeting",
    states=("planned", "convened", "concluded", "cancelled"),
    # A concluded meeting still takes its minutes, so only a cancelled one is final.
    terminal=("cancelled",),
    readers=("secretariat", "head", "ewg", "auditor", "participating_party"),
    filters=("body",),
    fields=(
        Field("body", str, required=True, choices=BODIES,
              description="com: Committee of Ministers, ewg: Expert Working Group, partner, other"),
        Field("title", str, required=True, max_length=300),
        Field("number", str, max_length=30, description='e.g. "3rd"'),
        Field("place", str, max_length=300, description="e.g. Sofia"),
        Field("organiser", str, max_length=300),
        Field("starts_on", date, required=True),
        Field("ends_on", date, required=True, description="On or after the day it starts"),
        Field("participants", list, description="Party codes (e.g. AL) and partner organisations"),
        Field("agenda", list, description="The agenda items, in order"),
        Field("minutes", str, max_length=100000),
        Field("documents_due_days", int, gt=-1, le=MOST_DAYS,
              description="Working days before the start the agenda and documents are due (10 for CoM, else 5)"),
        Field("minutes_due_days", int, gt=-1, le=MOST_DAYS,
              description="Working days after the end the minutes are due (default 10)"),
        Field("conclusion_text", str, max_length=20000, description="The text of a conclusion"),
        Field("tasks_someone", bool, description="Whether the conclusion is a decision that tasks someone"),
    ),
    actions=(
        Action("plan", (), "planned", RUNS, accepts=("body", "title", "number", "place", "organiser", "starts_on",
               "ends_on", "participants", "agenda", "documents_due_days", "minutes_due_days"), event="Planned",
               description="Plan a meeting; the EWG plans EWG meetings only"),
        Action("set_agenda", ("planned",), None, STAFF, requires=("agenda",), event="AgendaSet"),
        Action("convene", ("planned",), "convened", RUNS, event="Convened"),
        Action("record_conclusion", ("convened",), None, RUNS, requires=("conclusion_text",),
               accepts=("tasks_someone",), event="ConclusionRecorded",
               description="Add the next numbered conclusion"),
        Action("record_minutes", ("convened", "concluded"), None, STAFF, requires=("minutes",),
               event="MinutesRecorded"),
        Action("conclude", ("convened",), "concluded", RUNS, event="Concluded"),
        Action("postpone", ("planned", "convened"), "planned", STAFF, requires=("starts_on", "ends_on"),
               reason_required=True, event="Postponed", description="Back to planned, with new dates"),
        Action("cancel", ("planned",), "cancelled", STAFF, reason_required=True, event="Cancelled",
               preconditions=(NOTHING_CONCLUDED_YET,)),
    ),
)


def ends_on_or_after_it_starts(item: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    starts_on, ends_on = values.get("starts_on", item.get("starts_on")), values.get("ends_on", item.get("ends_on"))
    if isinstance(starts_on, date) and isinstance(ends_on, date) and ends_on < starts_on:
        raise ValidationFailed("ends_on", f"ends_on ({ends_on}) is before starts_on ({starts_on})")


def participants_are_parties_or_partners(_item: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Two-letter names must be Party codes: a mistyped code would silently hide the meeting from its Party."""
    for name in values.get("participants") or []:
        if len(name) == 2 and name.isupper() and name not in PARTIES:
            raise ValidationFailed("participants", f"{name} is not a Contracting Party; "
                                                   f"the Parties are: {', '.join(PARTIES)}")


# Mandates and tasks made from a meeting's conclusion name both.
MADE_AT_A_MEETING = Link("meeting_id", "meetings")


def names_meeting_and_conclusion_together(_item: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """A conclusion number means nothing without its meeting, and a meeting link without one says too little."""
    for given, missing in (("meeting_id", "conclusion"), ("conclusion", "meeting_id")):
        if values.get(given) is not None and values.get(missing) is None:
            raise ValidationFailed(missing, f"{missing} is required with {given}")


def due_dates(calendar: BusinessCalendar, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The working-day deadlines, fixed when the dates are set, so `own_deadlines` needs no calendar."""
    starts_on, ends_on = fields.get("starts_on"), fields.get("ends_on")
    if not (isinstance(starts_on, date) and isinstance(ends_on, date)):
        return {}  # the action's checks refuse it; nothing to derive from
    documents_days = fields.get("documents_due_days")
    if documents_days is None:
        documents_days = DOCUMENTS_DUE_DAYS.get(fields.get("body"), DEFAULT_DOCUMENTS_DUE_DAYS)
    minutes_days = fields.get("minutes_due_days")
    if minutes_days is None:
        minutes_days = DEFAULT_MINUTES_DUE_DAYS
    if not (isinstance(documents_days, int) and isinstance(minutes_days, int)
            and 0 <= documents_days <= MOST_DAYS and 0 <= minutes_days <= MOST_DAYS):
        return {}
    return {"documents_due_days": documents_days, "minutes_due_days": minutes_days,
            "documents_due": calendar.subtract_working_days(starts_on, documents_days),
            "minutes_due": calendar.add_working_days(ends_on, minutes_days)}


class Meeting(WorkflowItem):
    workflow = WORKFLOW
    derives_on = frozenset({"plan", "postpone"})
    rules = {"plan": (ends_on_or_after_it_starts, participants_are_parties_or_partners),
             "postpone": (ends_on_or_after_it_starts,)}

    class Planned(WorkflowItem.Created):
        def apply(self, item: "Meeting") -> None:
            super().apply(item)
            item.fields["conclusions"] = {}

    class AgendaSet(WorkflowItem.Event):
        pass

    class Convened(WorkflowItem.Event):
        pass

    class ConclusionRecorded(WorkflowItem.Event):
        def apply(self, item: "Meeting") -> None:
            number = len(item.fields["conclusions"]) + 1
            conclusion = {"number": number, "text": self.data["conclusion_text"],
                          "tasks_someone": bool(self.data.get("tasks_someone")), "made": []}
            item.fields["conclusions"] = {**item.fields["conclusions"], str(number): conclusion}

    class MinutesRecorded(WorkflowItem.Event):
        pass

    class Concluded(WorkflowItem.Event):
        pass

    class Postponed(WorkflowItem.Event):
        pass

    class Cancelled(WorkflowItem.Event):
        pass

    # Bookkeeping, like a mandate's TaskLinked: the meeting records what was made of each conclusion.
    class ConclusionActedOn(WorkflowItem.Event):
        def apply(self, item: "Meeting") -> None:
            key = str(self.data["conclusion"])
            conclusion = item.fields["conclusions"][key]
            made = [*conclusion["made"], {"collection": self.data["collection"], "id": self.data["id"]}]
            item.fields["conclusions"] = {**item.fields["conclusions"], key: {**conclusion, "made": made}}

    @classmethod
    def derived_on_creation(cls, today: date, calendar: BusinessCalendar, values: Mapping[str, Any]) -> dict:
        return due_dates(calendar, values)

    @classmethod
    def derived_on_action(cls, action: str, calendar: BusinessCalendar, item: Mapping[str, Any],
                          values: Mapping[str, Any]) -> dict:
        """New dates move both deadlines."""
        return due_dates(calendar, {**item, **values}) if action == "postpone" else {}

    def child_created(self, child: WorkflowItem, link: Link, *, actor: Actor, now: datetime) -> None:
        """A mandate or task made from one of this meeting's conclusions."""
        number = child.fields.get("conclusion")
        if self.state == "cancelled":
            raise ValidationFailed("meeting_id", f"meeting {self.title!r} was cancelled; nothing is made from "
                                                 "its conclusions")
        if str(number) not in self.conclusions:
            known = ", ".join(self.conclusions) or "none yet"
            raise ValidationFailed("conclusion", f"meeting {self.title!r} has no conclusion {number}; "
                                                 f"its conclusions: {known}")
        self.trigger_event(self.ConclusionActedOn, timestamp=now, occurred_at=self._told_of(child, now),
                           actor=actor.username, reason=None,
                           data={"conclusion": number, "collection": child.workflow.collection,
                                 "id": str(child.id)})

    def child_closed(self, child: WorkflowItem, link: Link, *, actor: Actor, now: datetime) -> None:
        """Nothing to record: the lineage reads the child's own state."""

    def facets(self) -> dict[str, list[str]]:
        """A Party liaison lists the meetings their Party takes part in."""
        return {**super().facets(), "party": [p for p in self.fields.get("participants") or [] if p in PARTIES]}

    @property
    def conclusions(self) -> dict[str, dict[str, Any]]:
        return self.fields.get("conclusions", {})

    @property
    def title(self) -> str:
        number = self.fields.get("number")
        return f"{number} {self.fields['title']}" if number else self.fields["title"]

    def own_deadlines(self) -> list[dict]:
        secretariat = ["role:secretariat"]
        return (deadline("documents_due", self.fields.get("documents_due"), self.state == "planned", secretariat)
                + deadline("minutes_due", self.fields.get("minutes_due"),
                           self.state in ("convened", "concluded") and not self.fields.get("minutes"), secretariat))

