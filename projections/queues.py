"""What waits on a user, across every collection, from the items view (never a replay).

The workflow tables say in which states an item may wait on the user, and through which relation
(domain/waiting.py); the view selects those candidates by state, read scope and (for a relation with a
column, a task's assignee) the user or nobody, a bounded number per collection. Whether each one waits on
the user, and for which steps, is then asked of the item as the view keeps it, with the domain's own rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select

from domain.actor import Actor
from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from domain.waiting import RELATION_FIELD, queue_states, unassigned_for, waiting_on
from projections.items import restore
from projections.items_tables import items
from projections.queries import ReadModels, matching

# Candidates read per collection, oldest first: a queue longer than this is a backlog to work through in the
# lists, and a page must stay cheap (the navigation counts the queue on every page).
SCANNED_PER_COLLECTION = 300


@dataclass(frozen=True)
class Waiting:
    """One item waiting on the user: the steps it waits for from them, and the action by which they may take it
    themselves if it is nobody's yet (`assign`)."""

    item: WorkflowItem
    steps: list[str]
    take: str | None

    @property
    def due(self) -> date | None:
        dues = [d["due"] for d in self.item.deadlines() if d["open"]]
        return min(dues) if dues else None


@dataclass(frozen=True)
class Queue:
    entries: list[Waiting]
    complete: bool  # False: some collection had more candidates than were read


def waiting_on_me(read_models: ReadModels, actor: Actor) -> Queue:
    """Every item that waits on the actor, soonest due first (then the longest waiting)."""
    entries, complete = [], True
    with read_models.engine.connect() as conn:
        for cls in WORKFLOW_ITEMS:
            workflow = cls.workflow
            scope, states = workflow.read_scope(actor), queue_states(workflow, actor)
            if scope is None or not states:
                continue
            where = and_(items.c.collection == workflow.collection, _in_states(states, actor),
                         *(matching(workflow, items, items.c.id, k, v) for k, v in scope.items()))
            rows = conn.execute(select(items).where(where).order_by(items.c.created_position)
                                .limit(SCANNED_PER_COLLECTION + 1)).all()
            complete = complete and len(rows) <= SCANNED_PER_COLLECTION
            for row in rows[:SCANNED_PER_COLLECTION]:
                item = restore(row, read_models.transcoder)
                view = item.view()
                steps, take = waiting_on(workflow, actor, view), unassigned_for(workflow, actor, view)
                if (steps or take) and item.may_be_read_by(actor):
                    entries.append(Waiting(item, steps, take))
    entries.sort(key=lambda e: (e.due or date.max, e.item.created_on))
    return Queue(entries, complete)


def _in_states(states: dict[str, str | None], actor: Actor) -> Any:
    """The states the actor may be waited on in; where only through a relation, the items naming them or nobody."""
    anyhow = [s for s, relation in states.items() if relation is None or relation not in RELATION_FIELD
              or RELATION_FIELD[relation][0] not in items.c]
    conditions = [items.c.state.in_(anyhow)] if anyhow else []
    for state, relation in states.items():
        if state not in anyhow:
            name, value_for = RELATION_FIELD[relation]
            column = items.c[name]
            mine = column == value_for(actor) if value_for(actor) is not None else column.is_(None)
            conditions.append(and_(items.c.state == state, or_(mine, column.is_(None))))
    return or_(*conditions)
