"""The aggregate every workflow item is built on.

The public commands (`start_new`, `act`) run every check: the workflow table's
state, grant and field checks, then the item's named business rules. Only then
is an event triggered, and an event's `apply` only assigns state, so replaying
history runs no checks.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable, ClassVar, Mapping
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import InvalidTransition
from domain.workflow import Action, Workflow

# A business rule: given the item's fields (with state) and the action's values,
# raise RuleBroken when the action must be refused.
Rule = Callable[[Mapping[str, Any], Mapping[str, Any]], None]


class WorkflowItem(Aggregate):
    workflow: ClassVar[Workflow]
    rules: ClassVar[dict[str, tuple[Rule, ...]]] = {}

    class Event(Aggregate.Event):
        """Every event says who did it and, where given, why."""

        actor: str
        reason: str | None
        data: dict[str, Any]

        def apply(self, item: "WorkflowItem") -> None:
            action = item.workflow_action_for(type(self).__name__)
            item.fields.update(self.data)
            if action.target is not None:
                item.state = action.target

    class Created(Event, Aggregate.Created):
        def apply(self, item: "WorkflowItem") -> None:
            item.state = ""
            item.fields = {}
            super().apply(item)

    def __init__(self) -> None:
        # State is assigned by the Created event's apply, so replay and creation agree.
        self.state: str
        self.fields: dict[str, Any]

    # -- commands ---------------------------------------------------------

    @classmethod
    def start_new(cls, actor: Actor, values: Mapping[str, Any], *, now: datetime, reason: str | None = None,
                  derived: Mapping[str, Any] | None = None, item_id: UUID | None = None) -> "WorkflowItem":
        """Create the item by its workflow's creating action, after every check."""
        action = cls.workflow.creating_action
        values = _given(values)
        cls._refuse_unless_allowed(action, actor, {"state": None, **values}, values, reason)
        event_class = cls.event_class_for(action)
        return cls._create(event_class, id=item_id or uuid4(), timestamp=now, actor=actor.username,
                           reason=reason, data={**values, **(derived or {})})

    def act(self, action_name: str, actor: Actor, values: Mapping[str, Any], *, now: datetime,
            reason: str | None = None) -> None:
        """Take a non-creating action of the workflow, after every check."""
        action = self.workflow.action(action_name)
        if action.creates:
            raise InvalidTransition(f"{action.name} creates a new {self.workflow.title.lower()}; "
                                    f"it is not an action on an existing one")
        values = _given(values)
        self._refuse_unless_allowed(action, actor, self.view(), values, reason)
        self.trigger_event(self.event_class_for(action), timestamp=now, actor=actor.username, reason=reason,
                           data=values)

    @classmethod
    def _refuse_unless_allowed(cls, action: Action, actor: Actor, item: Mapping[str, Any],
                               values: Mapping[str, Any], reason: str | None) -> None:
        cls.workflow.check(action, actor, item, values, reason)
        for rule in cls.rules.get(action.name, ()):
            rule(item, values)

    @classmethod
    def restore(cls, item_id: UUID, version: int, created_on: datetime, modified_on: datetime, state: str,
                fields: dict[str, Any]) -> "WorkflowItem":
        """The item from a read model's copy of its state, without replaying its events.

        Read models keep this copy so that lists and dashboards never replay aggregates;
        the restored item answers `allowed_actions`, `deadlines` and read checks as the
        replayed one would, and further events apply to it as usual.
        """
        item = cls.__new__(cls)
        item.__base_init__(item_id, version, created_on)
        item.modified_on = modified_on
        item.state = state
        item.fields = fields
        return item

    # -- queries ----------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The item's fields with its state, as the grants and rules see it."""
        return {**self.fields, "state": self.state}

    def allowed_actions(self, actor: Actor) -> list[str]:
        return self.workflow.allowed_actions(actor, self.view())

    def may_be_read_by(self, actor: Actor) -> bool:
        return self.workflow.may_read(actor, self.view())

    @property
    def is_closed(self) -> bool:
        return self.state in self.workflow.terminal

    def deadlines(self) -> list[dict[str, Any]]:
        """The item's deadlines: `[{"kind", "due", "open"}]`. Subclasses say which."""
        return []

    @classmethod
    def workflow_action_for(cls, event_name: str) -> Action:
        return cls._action_by_event()[event_name]

    @classmethod
    def _action_by_event(cls) -> dict[str, Action]:
        cache = cls.__dict__.get("_actions_by_event")
        if cache is None:
            cache = {a.event: a for a in cls.workflow.actions}
            setattr(cls, "_actions_by_event", cache)
        return cache

    @classmethod
    def event_class_for(cls, action: Action) -> type["WorkflowItem.Event"]:
        return getattr(cls, action.event)


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values the caller actually gave: absent and null fields are left out."""
    return {k: v for k, v in values.items() if v is not None}


def deadline(kind: str, due: date | None, is_open: bool) -> list[dict[str, Any]]:
    return [] if due is None else [{"kind": kind, "due": due, "open": is_open}]
