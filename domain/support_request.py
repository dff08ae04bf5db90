"""Support request: a Contracting Party asks the Secretariat for financial or logistical support.

Under the Committee of Ministers' decision of 5 May 2015; the Secretariat "shall have no
operational involvement at any time", and support must not duplicate other efforts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from domain.actor import PARTIES
from domain.calendar import BusinessCalendar
from domain.errors import ValidationFailed
from domain.item import WorkflowItem
from domain.item_deadlines import deadline
from domain.workflow import Action, Field, Precondition, Workflow

STAFF = ("secretariat", "head")
PENDING_DECISION = ("submitted", "screening", "needs_info")
DECISION_WORKING_DAYS = 10

# Approval's preconditions, told in this order: support must not duplicate other efforts in the region, and the
# Secretariat "shall have no operational involvement at any time".
DUPLICATION_CHECK_RECORDED = Precondition(
    lambda item: item.get("duplicates_found") is not None, "the duplication check is not recorded yet",
    "record the duplication check first", fix_action="record_duplication_check")
NO_DUPLICATE_FOUND = Precondition(
    lambda item: item.get("duplicates_found") is False,
    "the duplication check found that this support would duplicate other efforts in the region",
    "reject the request, or record the duplication check again if that finding was wrong", fix_action="reject")
NO_OPERATIONAL_INVOLVEMENT = Precondition(
    lambda item: not item.get("operational_involvement"),
    "the request asks for operational involvement, and the Secretariat shall have no operational involvement "
    "at any time", "reject the request", fix_action="reject")

# DOMAIN.md's roles table: the head "may do everything secretariat may", so wherever the
# support-request table names secretariat, the head is granted too.
WORKFLOW = Workflow(
    name="support_request",
    collection="support-requests",
    title="Support request",
    states=("submitted", "screening", "needs_info", "approved", "rejected", "in_delivery", "delivered", "closed",
            "withdrawn"),
    terminal=("rejected", "closed", "withdrawn"),
    # Support requests are party-confidential: the EWG does not read them.
    readers=("secretariat", "head", "auditor", "own_party"),
    filters=("party",),
    fields=(
        Field("party", str, required=True, choices=PARTIES, description="The requesting Contracting Party"),
        Field("kind", str, required=True, choices=("financial", "logistical")),
        Field("activity", str, required=True,
              choices=("operation_planning", "officer_exchange", "investigation", "mass_event", "other")),
        Field("description", str, required=True, max_length=20000),
        Field("amount_eur", Decimal, gt=0, description="Required and > 0 for a financial request"),
        Field("needed_by", date, description="When the Party needs the support"),
        Field("operational_involvement", bool, required=True,
              description="Does the request ask Secretariat staff to take part in an operation"),
        Field("info", str, max_length=20000, description="The Party's answer to a question"),
        Field("duplicates_found", bool, description="Whether the support would duplicate other efforts"),
        Field("notes", str, max_length=20000),
        Field("report", str, max_length=50000, description="Report on the delivered support"),
    ),
    actions=(
        Action("submit", (), "submitted", ("own_party", *STAFF),
               accepts=("party", "kind", "activity", "description", "amount_eur", "needed_by",
                        "operational_involvement"), event="Submitted",
               description="Submit a request; the decision is due in 10 working days"),
        Action("start_screening", ("submitted",), "screening", STAFF, event="ScreeningStarted"),
        Action("request_info", ("screening",), "needs_info", STAFF, reason_required=True, event="InfoRequested",
               description="Ask the Party a question (the reason)"),
        Action("provide_info", ("needs_info",), "screening", ("own_party", *STAFF), requires=("info",),
               event="InfoProvided"),
        Action("record_duplication_check", ("screening",), None, STAFF, requires=("duplicates_found",),
               accepts=("notes",), event="DuplicationCheckRecorded"),
        Action("approve", ("screening",), "approved", ("head",), event="Approved",
               description="Needs a duplication check with no duplicate, and no operational involvement",
               preconditions=(DUPLICATION_CHECK_RECORDED, NO_DUPLICATE_FOUND, NO_OPERATIONAL_INVOLVEMENT)),
        Action("reject", ("screening", "needs_info"), "rejected", ("head",), reason_required=True, event="Rejected"),
        Action("start_delivery", ("approved",), "in_delivery", STAFF, event="DeliveryStarted"),
        Action("complete_delivery", ("in_delivery",), "delivered", STAFF, requires=("report",),
               event="DeliveryCompleted"),
        Action("close", ("delivered",), "closed", STAFF, event="Closed"),
        Action("withdraw", PENDING_DECISION, "withdrawn", ("own_party", *STAFF), reason_required=True,
               event="Withdrawn"),
    ),
)


TITLE_WORDS = 60  # characters of the description a title quotes: enough to tell two requests apart


def summary(text: str) -> str:
    """The start of a description on one line, cut at a word and marked when cut."""
    line = " ".join(text.split()).rstrip(".")
    if len(line) <= TITLE_WORDS:
        return line
    return line[:TITLE_WORDS].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def financial_request_names_an_amount(_item: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    amount = values.get("amount_eur")
    if values.get("kind") == "financial" and amount is None:
        raise ValidationFailed("amount_eur", "a financial request needs amount_eur (greater than 0)")
    if amount is not None and amount <= 0:
        raise ValidationFailed("amount_eur", "amount_eur must be greater than 0")


class SupportRequest(WorkflowItem):
    workflow = WORKFLOW
    derives_on = frozenset({"submit"})
    rules = {"submit": (financial_request_names_an_amount,)}

    @classmethod
    def derived_on_creation(cls, today: date, calendar: BusinessCalendar, values: Mapping[str, Any]) -> dict[str, Any]:
        # Fixed at submission: closing or reopening a day later moves only later requests' deadlines.
        return {"decision_due": calendar.add_working_days(today, DECISION_WORKING_DAYS)}

    class Submitted(WorkflowItem.Created):
        pass

    class ScreeningStarted(WorkflowItem.Event):
        pass

    class InfoRequested(WorkflowItem.Event):
        pass

    class InfoProvided(WorkflowItem.Event):
        pass

    class DuplicationCheckRecorded(WorkflowItem.Event):
        pass

    class Approved(WorkflowItem.Event):
        pass

    class Rejected(WorkflowItem.Event):
        pass

    class DeliveryStarted(WorkflowItem.Event):
        pass

    class DeliveryCompleted(WorkflowItem.Event):
        pass

    class Closed(WorkflowItem.Event):
        pass

    class Withdrawn(WorkflowItem.Event):
        pass

    @property
    def title(self) -> str:
        # E-mail subjects and calendar feeds leave the system: they say whose request it is, never what it asks.
        return f"{self.fields['party']} {self.fields['kind']} support request"

    @property
    def label(self) -> str:
        """The Party, the kind and what is asked: "AL – financial support: Exchange of four officers with…"."""
        return f"{self.fields['party']} – {self.fields['kind']} support: {summary(self.fields['description'])}"

    def own_deadlines(self) -> list[dict]:
        delivering = self.state in PENDING_DECISION + ("approved", "in_delivery")
        # Screening staff answer for the decision and for delivering in time; the head hears of escalations.
        return (deadline("decision", self.fields.get("decision_due"), self.state in PENDING_DECISION,
                         ["role:secretariat"])
                + deadline("needed_by", self.fields.get("needed_by"), delivering, ["role:secretariat"]))
