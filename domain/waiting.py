"""What waits on whom: read from the workflow tables, never from a list of collections or roles.

An item waits for its *steps forward*: the actions that carry it on in its usual course from its state,
whoever takes them. Those move it to another state without needing a reason (a step that needs one is
an exception to the course: blocking, returning, reopening, rejecting, cancelling, withdrawing), plus,
for a step a precondition blocks, the action named to fix it (the duplication check a blocked approval
waits for). A step is *expected of* whoever holds the first of its grants that applies to anybody on the
item: the assignee when a task has one (the roles after it stand in only for an unassigned task), the
requesting Party on its request, else the first role named.
"""

from __future__ import annotations

from typing import Any, Mapping

from domain.actor import Actor
from domain.workflow import RELATION_CLAIMED, RELATIONS, Action, Workflow


# The field naming who holds a relation, and the actor's value for it: a read model selects on these.
RELATION_FIELD = {"assignee": ("assignee", lambda actor: actor.username),
                  "own_party": ("party", lambda actor: actor.party)}


def steps_forward(workflow: Workflow, item: Mapping[str, Any]) -> list[Action]:
    """The actions the item waits for in its state, whoever is to take them, in the table's order."""
    state, found = item["state"], []
    for action in workflow.available_in(state):
        if action.target in (None, state) or action.reason_required:
            continue
        unmet = action.unmet(item)
        if unmet is None:
            found.append(action)
        elif unmet.fix_action is not None and state in workflow.by_name[unmet.fix_action].sources:
            found.append(workflow.by_name[unmet.fix_action])
    return list(dict.fromkeys(found))


def expected_of(action: Action, actor: Actor, item: Mapping[str, Any]) -> bool:
    """Whether the step is the actor's to take: they hold the first of its grants that applies on the item."""
    for grant in action.who:
        if grant in RELATIONS:
            if RELATIONS[grant](actor, item):
                return True
            if RELATION_CLAIMED[grant](item):
                return False  # somebody else is named for it
        else:
            return actor.has_role(grant)
    return False


def waiting_on(workflow: Workflow, actor: Actor, item: Mapping[str, Any]) -> list[str]:
    """The steps forward the item waits for from this actor (none: it does not wait on them)."""
    return [a.name for a in steps_forward(workflow, item) if expected_of(a, actor, item)]


def next_steps(workflow: Workflow, actor: Actor, item: Mapping[str, Any]) -> list[str]:
    """Of the actions the actor may take now, the steps forward first (the page's primary action), then the rest."""
    allowed = workflow.allowed_actions(actor, item)
    forward = [a.name for a in steps_forward(workflow, item) if a.name in allowed]
    return forward + [name for name in allowed if name not in forward]


def queue_states(workflow: Workflow, actor: Actor) -> dict[str, str | None]:
    """The states in which an item may wait on the actor, each with the relation it then must hold for them
    (`"assignee"`: only items naming the actor, or naming nobody), or None when a role of theirs suffices.

    A question asked before any item is at hand, so that a read model can select the candidates; the answer
    for each candidate is `waiting_on`'s.
    """
    found: dict[str, str | None] = {}
    for state in workflow.states:
        if state in workflow.terminal:
            continue
        narrowest: set[str | None] = set()
        fixes = {p.fix_action for a in workflow.available_in(state) for p in a.preconditions}
        for action in workflow.available_in(state):
            assigning = assigning_relation(workflow, action)
            if assigning is not None:
                narrowest.add(assigning)
            elif action.name in fixes or (action.target not in (None, state) and not action.reason_required):
                path = _first_path(action, actor)
                if path is not False:
                    narrowest.add(path)
        if narrowest:
            found[state] = None if None in narrowest or len(narrowest) > 1 else narrowest.pop()
    return found


def _first_path(action: Action, actor: Actor) -> str | None | bool:
    """How the actor could be the one a step is expected of: False never; None by a role alone; a relation's name
    when only through that relation (held, or claimed by nobody so a role after it stands in)."""
    relation = None
    for grant in action.who:
        if grant in RELATIONS:
            relation = relation or grant
        elif actor.has_role(grant):
            return relation
        else:
            return relation if relation is not None else False
    return relation if relation is not None else False


def assigning_relation(workflow: Workflow, action: Action) -> str | None:
    """The relation an action hands out (a task's `assign` names its assignee), if it does: an item whose field is
    empty waits on whoever may hand it out, to themselves ("assign to me")."""
    granted = {g for a in workflow.actions for g in a.who if g in RELATION_FIELD}
    return next((r for r in granted if action.target is None and action.requires == (RELATION_FIELD[r][0],)), None)


def unassigned_for(workflow: Workflow, actor: Actor, item: Mapping[str, Any]) -> str | None:
    """The action by which the actor may take this unclaimed item themselves (`assign`), if there is one."""
    for name in workflow.allowed_actions(actor, item):
        relation = assigning_relation(workflow, workflow.by_name[name])
        if relation is not None and not RELATION_CLAIMED[relation](item) and may_hold(workflow, actor):
            return name
    return None


def holder_roles(workflow: Workflow) -> set[str]:
    """The roles the workflow's actions grant: who may be chosen to take one of its items (never an auditor, who
    takes no action, nor a role no action needs)."""
    return {g for a in workflow.commands for g in a.who if g not in RELATIONS}


def may_hold(workflow: Workflow, actor: Actor) -> bool:
    return bool(holder_roles(workflow) & actor.roles)
