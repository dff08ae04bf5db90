"""Every transition of every table: given events put the item in a state, then the command is tried.

Given → when → then: the given events are triggered directly (no checks, as on replay);
the command goes through the public method that runs every check.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from domain.actor import ROLES, Actor
from domain.application import AGGREGATES
from domain.errors import Forbidden, InvalidTransition, ValidationFailed
from domain.item import WorkflowItem
from domain.workflow import Action, Workflow

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
SAMPLE = {str: "text", bool: False, date: date(2026, 12, 1), Decimal: Decimal("10"), list: ["SELEC"], int: 1}

CASES = [(cls, action, state) for cls in AGGREGATES.values() for action in cls.workflow.commands
         for state in cls.workflow.states]


def given_item_in(cls: type[WorkflowItem], state: str, **fields: Any) -> WorkflowItem:
    """An item in `state`, built from events alone (as replay builds it)."""
    workflow = cls.workflow
    created = cls.event_class_for(workflow.creating_action)
    base = {"party": "AL", "assignee": "asha", "operational_involvement": False, "duplicates_found": False}
    item = cls._create(created, id=None, timestamp=NOW, actor="given", reason=None, data={**base, **fields})
    if item.state != state:
        reaching = next(a for a in workflow.commands if a.target == state)
        item.trigger_event(cls.event_class_for(reaching), timestamp=NOW, actor="given", reason=None, data={})
    assert item.state == state
    return item


def values_for(workflow: Workflow, action: Action) -> dict[str, Any]:
    return {name: SAMPLE[workflow.field_by_name[name].type] for name in action.requires}


def actor_granted(action: Action) -> Actor:
    role = next(g for g in action.who if g in ROLES)
    return Actor(f"someone-{role}", frozenset({role}), "AL" if role == "party" else None)


def case_id(case) -> str:
    cls, action, state = case
    return f"{cls.__name__}.{action.name}@{state}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_an_action_moves_the_item_from_each_of_its_states_and_is_refused_in_every_other(case):
    cls, action, state = case
    item = given_item_in(cls, state)
    version = item.version
    when = lambda: item.act(action.name, actor_granted(action), values_for(cls.workflow, action), now=NOW,  # noqa: E731
                            reason="because")
    if state in action.sources:
        when()
        assert item.state == (action.target or state)
        assert item.version == version + 1
        event = item.pending_events[-1]
        assert type(event).__name__ == action.event
        assert (event.actor, event.reason, event.timestamp) == (actor_granted(action).username, "because", NOW)
    else:
        with pytest.raises(InvalidTransition, match=f"in state '{state}'"):
            when()
        assert item.version == version


ROLE_CASES = [(cls, action, role) for cls in AGGREGATES.values() for action in cls.workflow.commands
              for role in ROLES]


@pytest.mark.parametrize("case", ROLE_CASES, ids=case_id)
def test_only_the_roles_the_table_names_may_take_an_action(case):
    cls, action, role = case
    item = given_item_in(cls, action.sources[0])
    # Someone of this role who is neither the assignee nor of the item's Party.
    actor = Actor("outsider", frozenset({role}), "RS" if role == "party" else None)
    values = values_for(cls.workflow, action)
    if role in action.who:
        item.act(action.name, actor, values, now=NOW, reason="because")
    else:
        with pytest.raises(Forbidden, match=f"{action.name} needs one of"):
            item.act(action.name, actor, values, now=NOW, reason="because")


def test_the_assignee_may_work_their_task_without_a_staff_role():
    item = given_item_in(AGGREGATES["tasks"], "open", assignee="erik")
    erik = Actor("erik", frozenset({"ewg"}))
    assert item.allowed_actions(erik) == ["assign", "start", "cancel", "reschedule"]
    item.act("start", erik, {}, now=NOW)
    assert item.state == "in_progress"
    other_ewg = Actor("ewa", frozenset({"ewg"}))
    with pytest.raises(Forbidden):
        item.act("block", other_ewg, {}, now=NOW, reason="stuck")


def test_a_party_liaison_acts_only_for_their_own_party():
    item = given_item_in(AGGREGATES["support-requests"], "needs_info", party="AL")
    alba = Actor("alba", frozenset({"party"}), "AL")
    milan = Actor("milan", frozenset({"party"}), "RS")
    with pytest.raises(Forbidden):
        item.act("provide_info", milan, {"info": "x"}, now=NOW)
    item.act("provide_info", alba, {"info": "Three Parties take part"}, now=NOW)
    assert item.state == "screening" and item.fields["info"] == "Three Parties take part"


@pytest.mark.parametrize("cls,action", [(c, a) for c in AGGREGATES.values() for a in c.workflow.commands
                                        if a.reason_required], ids=lambda v: getattr(v, "name", None) or v.__name__)
def test_an_action_that_needs_a_reason_is_refused_without_one(cls, action):
    item = given_item_in(cls, action.sources[0])
    version = item.version
    for reason in (None, "", "   "):
        with pytest.raises(ValidationFailed, match="requires a reason") as refused:
            item.act(action.name, actor_granted(action), values_for(cls.workflow, action), now=NOW, reason=reason)
        assert refused.value.field == "reason"
    assert item.version == version


@pytest.mark.parametrize("cls,action", [(c, a) for c in AGGREGATES.values() for a in c.workflow.commands
                                        if a.requires], ids=lambda v: getattr(v, "name", None) or v.__name__)
def test_an_action_is_refused_without_its_required_field_naming_it(cls, action):
    item = given_item_in(cls, action.sources[0])
    missing = action.requires[0]
    values = values_for(cls.workflow, action)
    del values[missing]
    with pytest.raises(ValidationFailed) as refused:
        item.act(action.name, actor_granted(action), values, now=NOW, reason="because")
    assert refused.value.field == missing


def test_a_field_the_action_does_not_take_is_refused():
    item = given_item_in(AGGREGATES["tasks"], "open")
    with pytest.raises(ValidationFailed, match="does not take this field") as refused:
        item.act("start", Actor("sara", frozenset({"secretariat"})), {"due": date(2027, 1, 1)}, now=NOW)
    assert refused.value.field == "due"


def test_a_value_of_the_wrong_type_or_outside_the_choices_is_refused():
    cls = AGGREGATES["support-requests"]
    sara = Actor("sara", frozenset({"secretariat"}))
    good = {"party": "AL", "kind": "logistical", "activity": "other", "description": "d",
            "operational_involvement": False}
    for field, bad in [("party", "XX"), ("kind", "moral"), ("operational_involvement", "no"),
                       ("needed_by", datetime(2027, 1, 1)), ("description", "x" * 20001)]:
        with pytest.raises(ValidationFailed) as refused:
            cls.start_new(sara, {**good, field: bad}, now=NOW)
        assert refused.value.field == field
