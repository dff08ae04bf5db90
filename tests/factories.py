"""Shared test factories: the demo cast as actors, and valid values for each creating action (`valid_values`
derives them for any workflow from its table)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.actor import Actor
from domain.workflow import Workflow

SARA = Actor("sara", frozenset({"secretariat"}))
HANA = Actor("hana", frozenset({"head"}))
ERIK = Actor("erik", frozenset({"ewg"}))
ALBA = Actor("alba", frozenset({"party"}), "AL")
MILAN = Actor("milan", frozenset({"party"}), "RS")
AUDREY = Actor("audrey", frozenset({"auditor"}))
ADMIN = Actor("admin", frozenset({"admin"}))
CAST = (SARA, HANA, ERIK, ALBA, MILAN, AUDREY, ADMIN)


def register_cast(service) -> None:
    for actor in CAST:
        service.register_user(actor.username, actor.username, sorted(actor.roles), party=actor.party, actor=ADMIN)


def mandate_values(**overrides: Any) -> dict[str, Any]:
    return {"reference": "CoM-2015-05-05/1", "title": "Support Contracting Parties", "decided_on": date(2015, 5, 5),
            "assigned_to": "secretariat", "meeting": "CoM, Sofia", **overrides}


def task_values(**overrides: Any) -> dict[str, Any]:
    return {"title": "Catalogue bilateral agreements", "assignee": "sara", "due": date(2026, 12, 15), **overrides}


def request_values(**overrides: Any) -> dict[str, Any]:
    return {"party": "AL", "kind": "financial", "activity": "officer_exchange", "description": "Exchange of officers",
            "amount_eur": Decimal("12000"), "operational_involvement": False, **overrides}


def valid_values(workflow: Workflow, **overrides: Any) -> dict[str, Any]:
    """Values the workflow's creating action accepts, from its table alone (any registered workflow, a plugged-in
    one too): each required field's first choice, or a plain value of its type. A workflow's own rules may ask
    for more (a financial request's amount): give that in `overrides`."""
    plain = {str: "Something", date: date(2026, 12, 15), bool: False, list: ["AL"]}
    values = {}
    for name in workflow.creating_action.fields:
        spec = workflow.field_by_name[name]
        if spec.required:
            lowest = (spec.gt or 0) + 1
            values[name] = (spec.choices[0] if spec.choices else Decimal(lowest) if spec.type is Decimal
                            else lowest if spec.type is int else plain[spec.type])
    return {**values, **overrides}
