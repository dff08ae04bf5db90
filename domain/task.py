"""Task: an Expert Working Group or Secretariat task, optionally serving a mandate."""

from __future__ import annotations

from datetime import date

from domain.item import WorkflowItem
from domain.item_deadlines import deadline
from domain.meeting import MADE_AT_A_MEETING, names_meeting_and_conclusion_together
from domain.workflow import Action, Field, Link, Workflow

STAFF = ("secretariat", "head")
WORKING = ("open", "in_progress", "blocked", "in_review")

WORKFLOW = Workflow(
    name="task",
    collection="tasks",
    title="Task",
    states=("open", "in_progress", "blocked", "in_review", "done", "cancelled"),
    terminal=("done", "cancelled"),
    readers=("secretariat", "head", "ewg", "auditor", "assignee"),
    filters=("assignee", "mandate_id"),
    fields=(
        Field("title", str, required=True, max_length=300, description="What is to be done"),
        Field("description", str, max_length=20000),
        Field("mandate_id", str, max_length=36, description="The mandate this task serves, if any"),
        Field("meeting_id", str, max_length=36, description="The meeting whose conclusion this was made from"),
        Field("conclusion", int, gt=0, le=10000, description="The number of that meeting's conclusion"),
        Field("assignee", str, max_length=64, description="Username of the person doing it"),
        Field("due", date, description="When it is due"),
        Field("partners", list, description="Partner organisations involved"),
        Field("result", str, max_length=20000, description="What the work produced"),
    ),
    actions=(
        Action("create", (), "open", ("ewg", *STAFF), accepts=("title", "description", "mandate_id", "assignee",
               "due", "partners", "meeting_id", "conclusion"), event="Created", description="Create a task"),
        Action("assign", WORKING[:3], None, ("ewg", *STAFF), requires=("assignee",), event="Assigned"),
        Action("start", ("open",), "in_progress", ("assignee", *STAFF), event="Started"),
        Action("block", ("in_progress",), "blocked", ("assignee", *STAFF), reason_required=True, event="Blocked"),
        Action("unblock", ("blocked",), "in_progress", ("assignee", *STAFF), event="Unblocked"),
        Action("submit", ("in_progress",), "in_review", ("assignee", *STAFF), requires=("result",),
               event="Submitted", description="Submit the result for review"),
        Action("approve", ("in_review",), "done", ("ewg", "head"), event="Approved"),
        Action("return", ("in_review",), "in_progress", ("ewg", "head"), reason_required=True, event="Returned",
               description="Send the result back for more work"),
        Action("cancel", WORKING, "cancelled", ("ewg", "head"), reason_required=True, event="Cancelled"),
        Action("reschedule", WORKING, None, ("ewg", *STAFF), requires=("due",), reason_required=True,
               event="Rescheduled"),
    ),
)


class Task(WorkflowItem):
    workflow = WORKFLOW
    rules = {"create": (names_meeting_and_conclusion_together,)}
    # A mandate's progress counts its tasks by state; the mandate lists them in its `tasks` field. A task
    # made from a meeting's conclusion names it too.
    links = (Link("mandate_id", "mandates", progress="done", kept_in="tasks"), MADE_AT_A_MEETING)
    user_fields = ("assignee",)

    class Created(WorkflowItem.Created):
        pass

    class Assigned(WorkflowItem.Event):
        pass

    class Started(WorkflowItem.Event):
        pass

    class Blocked(WorkflowItem.Event):
        pass

    class Unblocked(WorkflowItem.Event):
        pass

    class Submitted(WorkflowItem.Event):
        pass

    class Approved(WorkflowItem.Event):
        pass

    class Returned(WorkflowItem.Event):
        pass

    class Cancelled(WorkflowItem.Event):
        pass

    class Rescheduled(WorkflowItem.Event):
        pass

    @property
    def mandate_id(self) -> str | None:
        return self.fields.get("mandate_id")

    def own_deadlines(self) -> list[dict]:
        assignee = self.fields.get("assignee")
        # An unassigned task is the Secretariat's to chase: it keeps the Convention's tasks moving.
        return deadline("due", self.fields.get("due"), not self.is_closed,
                        [f"user:{assignee}"] if assignee else ["role:secretariat"])
