"""Mandate: a decision of the Committee of Ministers that the Secretariat or the EWG carries out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.actor import Actor
from domain.item import WorkflowItem
from domain.item_deadlines import deadline
from domain.meeting import MADE_AT_A_MEETING, names_meeting_and_conclusion_together
from domain.workflow import Action, Field, Link, Precondition, Workflow, check_rule

STAFF = ("secretariat", "head")


def _open_tasks(item: Mapping[str, Any]) -> list[str]:
    return [t for t, outcome in item.get("tasks", {}).items() if outcome == "open"]


# Enforced on the mandate itself: linking and settling a task writes to it (see TaskLinked), so this holds at save.
NO_LINKED_TASK_OPEN = Precondition(
    lambda item: not _open_tasks(item),
    lambda item: (f"{len(_open_tasks(item))} linked task{' is' if len(_open_tasks(item)) == 1 else 's are'} "
                  f"still open ({', '.join(_open_tasks(item))})"),
    "approve or cancel those tasks first")

WORKFLOW = Workflow(
    name="mandate",
    collection="mandates",
    title="Mandate",
    states=("adopted", "in_progress", "reported", "fulfilled", "withdrawn"),
    terminal=("fulfilled", "withdrawn"),
    readers=("secretariat", "head", "ewg", "auditor"),
    filters=("assigned_to",),
    fields=(
        Field("reference", str, required=True, max_length=100, description="Unique, e.g. CoM-2015-05-05/1"),
        Field("title", str, required=True, max_length=300),
        Field("text", str, max_length=50000, description="The text of the decision"),
        Field("decided_on", date, required=True, description="Date of the ministerial decision"),
        Field("meeting", str, max_length=300, description="e.g. 3rd CoM, Sofia"),
        Field("meeting_id", str, max_length=36, description="The meeting whose conclusion this was made from"),
        Field("conclusion", int, gt=0, le=10000, description="The number of that meeting's conclusion"),
        Field("assigned_to", str, required=True, choices=("secretariat", "ewg")),
        Field("report_due", date, description="When the report to the CoM is due"),
        Field("summary", str, max_length=50000, description="The report's summary"),
    ),
    actions=(
        Action("record", (), "adopted", STAFF, accepts=("reference", "title", "text", "decided_on", "meeting",
               "assigned_to", "report_due", "meeting_id", "conclusion"), event="Recorded",
               description="Record a CoM decision"),
        Action("start", ("adopted",), "in_progress", (*STAFF, "ewg"), event="Started"),
        Action("report", ("in_progress",), "reported", STAFF, requires=("summary",), event="Reported"),
        Action("reopen", ("reported",), "in_progress", (*STAFF, "ewg"), reason_required=True, event="Reopened",
               description="The CoM asked for more"),
        Action("fulfil", ("reported",), "fulfilled", ("head",), event="Fulfilled",
               description="Refused while any linked task is still open", preconditions=(NO_LINKED_TASK_OPEN,)),
        Action("withdraw", ("adopted", "in_progress"), "withdrawn", ("head",), reason_required=True,
               event="Withdrawn"),
        Action("set_report_due", ("adopted", "in_progress", "reported"), None, STAFF, requires=("report_due",),
               reason_required=True, event="ReportDueSet"),
    ),
)


class Mandate(WorkflowItem):
    workflow = WORKFLOW
    rules = {"record": (names_meeting_and_conclusion_together,)}
    links = (MADE_AT_A_MEETING,)

    class Recorded(WorkflowItem.Created):
        def apply(self, item: "Mandate") -> None:
            super().apply(item)
            item.fields["tasks"] = {}

    class Started(WorkflowItem.Event):
        pass

    class Reported(WorkflowItem.Event):
        pass

    class Reopened(WorkflowItem.Event):
        pass

    class Fulfilled(WorkflowItem.Event):
        pass

    class Withdrawn(WorkflowItem.Event):
        pass

    class ReportDueSet(WorkflowItem.Event):
        pass

    # Bookkeeping that keeps "no open tasks" consistent: linking and settling a task
    # writes to the mandate too, so a fulfil racing a new task loses on the version.
    class TaskLinked(WorkflowItem.Event):
        def apply(self, item: "Mandate") -> None:
            item.fields["tasks"] = {**item.fields["tasks"], self.data["task_id"]: "open"}

    class TaskSettled(WorkflowItem.Event):
        def apply(self, item: "Mandate") -> None:
            item.fields["tasks"] = {**item.fields["tasks"], self.data["task_id"]: self.data["outcome"]}

    @staticmethod
    def id_for(reference: str) -> UUID:
        """Mandate ids derive from the unique reference, so the store itself refuses a duplicate."""
        return uuid5(NAMESPACE_URL, f"secretariat:mandate:{reference.strip()}")

    @classmethod
    def id_for_new(cls, values: Mapping[str, Any]) -> UUID | None:
        reference = values.get("reference")
        return cls.id_for(reference) if isinstance(reference, str) and reference.strip() else None

    @classmethod
    def duplicate_message(cls, values: Mapping[str, Any]) -> str:
        return f"a mandate with reference {values['reference']!r} already exists"

    # Every child linked to a mandate is one of its tasks (a task's `mandate_id` link).
    def child_created(self, child: WorkflowItem, link: Link, *, actor: Actor, now: datetime) -> None:
        check_rule(not self.is_closed, f"mandate {self.fields['reference']} is {self.state}; "
                                       "tasks can only be linked to an active mandate")
        self.trigger_event(self.TaskLinked, timestamp=now, occurred_at=self._told_of(child, now),
                           actor=actor.username, reason=None,
                           data={"task_id": str(child.id)})

    def child_closed(self, child: WorkflowItem, link: Link, *, actor: Actor, now: datetime) -> None:
        self.trigger_event(self.TaskSettled, timestamp=now, occurred_at=self._told_of(child, now),
                           actor=actor.username, reason=None,
                           data={"task_id": str(child.id), "outcome": child.state})

    @property
    def linked_tasks(self) -> dict[str, str]:
        return self.fields["tasks"]

    @property
    def title(self) -> str:
        return f"{self.fields['reference']}: {self.fields['title']}"

    def own_deadlines(self) -> list[dict]:
        return deadline("report_due", self.fields.get("report_due"), self.state in ("adopted", "in_progress"),
                        [f"role:{self.fields['assigned_to']}"])
