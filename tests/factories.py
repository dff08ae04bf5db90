"""Shared test factories: the demo cast as actors, and valid values for each creating action."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.actor import Actor

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
