"""The workflow machinery: a declarative table of states, actions, grants and fields.

Each workflow (mandate, task, support request) is one `Workflow` value. It is the
only place a state, action or role is named: command validation, the item's
`allowed_actions`, the `/workflows` document, the HTTP bodies and the Mermaid
diagrams are all derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Mapping

from domain.actor import ROLES, Actor
from domain.errors import Forbidden, InvalidTransition, RuleBroken, ValidationFailed

# Grants that depend on the item, not only on the actor's roles.
RELATIONS: dict[str, Callable[[Actor, Mapping[str, Any]], bool]] = {
    # The user named in the item's `assignee` field.
    "assignee": lambda actor, item: bool(item.get("assignee")) and item.get("assignee") == actor.username,
    # A Party liaison acting for their own Party.
    "own_party": lambda actor, item: actor.has_role("party") and actor.party is not None
    and item.get("party") == actor.party,
    # A Party liaison whose Party takes part in the item (a meeting's `participants`).
    "participating_party": lambda actor, item: actor.has_role("party") and actor.party is not None
    and actor.party in (item.get("participants") or []),
    # An EWG member, on an item of the Expert Working Group's own (a meeting whose body is `ewg`).
    "ewg_body": lambda actor, item: actor.has_role("ewg") and item.get("body") == "ewg",
}

# Relations that let a Party liaison read the items of their Party: a list shows them `{"party": X}`,
# matched against the item's `party` facet (see `WorkflowItem.facets`).
PARTY_RELATIONS = ("own_party", "participating_party")

# Dates outside these are typing mistakes, and would overflow deadline arithmetic.
EARLIEST, LATEST = date(1990, 1, 1), date(2199, 12, 31)

# The role a relation presumes, for questions asked before any item is at hand.
RELATION_ROLE = {"own_party": "party", "participating_party": "party", "assignee": "", "ewg_body": "ewg"}

# Whether an item names somebody for a relation at all (a task with an assignee, a request with a Party): then the
# work its grant covers is that somebody's, and roles granted after it in an action's `who` are only stand-ins.
RELATION_CLAIMED: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "assignee": lambda item: bool(item.get("assignee")),
    "own_party": lambda item: bool(item.get("party")),
    "participating_party": lambda item: bool(item.get("participants")),
    "ewg_body": lambda item: item.get("body") == "ewg",
}


@dataclass(frozen=True)
class Field:
    """One field of an item, with what the edge and the domain both check."""

    name: str
    type: type  # str, int, bool, date or list (of str)
    required: bool = False  # required when the item is created
    choices: tuple[str, ...] = ()
    max_length: int = 2000
    description: str = ""
    gt: int | None = None  # numbers only: a value must be greater than this (an exclusive lower bound)
    le: int | None = None  # whole numbers only: the largest value accepted
    # Personal data (GDPR): to be stored encrypted under the key of the person it concerns, and erased
    # with it (domain/personal_data.py). No field of the four workflows holds any today.
    personal: bool = False


@dataclass(frozen=True)
class Link:
    """A field of an item that names another item: a task's `mandate_id` names a mandate.

    On creation the application loads the linked item (it must exist) and tells it of its new
    child (`WorkflowItem.child_created`), and again when the child closes (`child_closed`).
    """

    field: str  # the child's field holding the parent's id
    collection: str  # the parent's collection
    # The child's state that counts as done in the parent's progress (a mandate's tasks by state);
    # None: the parent keeps no progress of these children.
    progress: str | None = None
    # The parent's field that lists these children (id -> their outcome), shown as links; None if none.
    kept_in: str | None = None


@dataclass(frozen=True)
class Precondition:
    """A rule on the item alone, asked before anyone acts: an action whose precondition fails is not offered, and
    is listed as blocked with `reason` (what stands in the way) and `fix` (what to do), both in plain words.

    `fix_action` names the action of the same workflow that fixes it, if one does (the duplication check a
    blocked approval waits for): the queues show the item to whoever is to take that action.
    """

    holds: Callable[[Mapping[str, Any]], bool]
    reason: str | Callable[[Mapping[str, Any]], str]
    fix: str
    fix_action: str | None = None

    def reason_for(self, item: Mapping[str, Any]) -> str:
        return self.reason(item) if callable(self.reason) else self.reason


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]  # states it may start from; () for the creating action
    target: str | None  # None: the state stays as it is
    who: tuple[str, ...]  # role names or RELATIONS names; any one grants it
    requires: tuple[str, ...] = ()  # fields this action must carry
    accepts: tuple[str, ...] = ()  # optional fields this action may carry
    reason_required: bool = False
    event: str = ""  # the past-tense event class name on the aggregate
    description: str = ""
    preconditions: tuple[Precondition, ...] = ()  # rules on the item alone, in the order they are told

    @property
    def label(self) -> str:
        """The action's name for people ("record duplication check")."""
        return self.name.replace("_", " ")

    def unmet(self, item: Mapping[str, Any]) -> Precondition | None:
        """The first precondition the item does not meet; None if it meets them all."""
        return next((p for p in self.preconditions if not p.holds(item)), None)

    @property
    def creates(self) -> bool:
        return not self.sources

    @property
    def fields(self) -> tuple[str, ...]:
        return self.requires + self.accepts

    def permits(self, actor: Actor, item: Mapping[str, Any]) -> bool:
        for grant in self.who:
            relation = RELATIONS.get(grant)
            if relation is not None:
                if relation(actor, item):
                    return True
            elif actor.has_role(grant):
                return True
        return False


@dataclass(frozen=True)
class Workflow:
    name: str  # "task"
    collection: str  # "tasks", the HTTP collection
    title: str  # "Task", for people
    states: tuple[str, ...]
    terminal: tuple[str, ...]
    fields: tuple[Field, ...]
    actions: tuple[Action, ...]
    readers: tuple[str, ...]  # roles or RELATIONS that may read an item
    filters: tuple[str, ...] = ()  # fields a list may be filtered by, beyond `state`
    by_name: dict[str, Action] = field(init=False, repr=False, compare=False)
    field_by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {a.name: a for a in self.actions})
        object.__setattr__(self, "field_by_name", {f.name: f for f in self.fields})
        self._check_consistency()

    @property
    def party_scoped(self) -> bool:
        """Whether a Party liaison reads some of its items: then they are confidential between Parties."""
        return any(g in PARTY_RELATIONS for g in self.readers)

    @property
    def creating_action(self) -> Action:
        return next(a for a in self.actions if a.creates)

    @property
    def commands(self) -> tuple[Action, ...]:
        """Every action but the creating one."""
        return tuple(a for a in self.actions if not a.creates)

    def action(self, name: str) -> Action:
        try:
            return self.by_name[name]
        except KeyError:
            raise InvalidTransition(
                f"{self.title} has no action {name!r}; its actions are: {', '.join(self.by_name)}"
            ) from None

    def available_in(self, state: str) -> list[Action]:
        return [a for a in self.commands if state in a.sources]

    def allowed_actions(self, actor: Actor, item: Mapping[str, Any]) -> list[str]:
        """The actions `actor` may take on `item` now: state, grants and preconditions all fit."""
        return [a.name for a in self.available_in(item["state"]) if a.permits(actor, item) and a.unmet(item) is None]

    def blocked_actions(self, actor: Actor, item: Mapping[str, Any]) -> list[dict[str, str]]:
        """The actions the actor's grants allow in the item's state but a precondition stands in the way of:
        `[{"action", "reason", "fix"}]`, the first unmet precondition of each, in plain words."""
        blocked = []
        for action in self.available_in(item["state"]):
            unmet = action.unmet(item) if action.permits(actor, item) else None
            if unmet is not None:
                blocked.append({"action": action.name, "reason": unmet.reason_for(item), "fix": unmet.fix})
        return blocked

    def read_scope(self, actor: Actor) -> dict[str, str] | None:
        """What a list shows the actor: `{}` everything, `{"party": "AL"}` their Party's only, None nothing.

        An assignee without a reader role reads their own task by id, but lists nothing.
        """
        if any(g in ROLES and actor.has_role(g) for g in self.readers):
            return {}
        if any(g in PARTY_RELATIONS for g in self.readers) and actor.has_role("party") and actor.party:
            return {"party": actor.party}
        return None

    def may_read_some(self, actor: Actor) -> bool:
        """Whether the actor may read items of this workflow at all (decides 403 against 404)."""
        return self.read_scope(actor) is not None

    def may_read(self, actor: Actor, item: Mapping[str, Any]) -> bool:
        return any(
            RELATIONS[g](actor, item) if g in RELATIONS else actor.has_role(g) for g in self.readers
        )

    def check(self, action: Action, actor: Actor, item: Mapping[str, Any], values: Mapping[str, Any],
              reason: str | None) -> None:
        """Refuse the action unless the state, the actor's grants and the given values fit.

        Checked in this order so that the error names the first thing to fix: the grant
        (403: a role that may never do it hears so whatever the state), the state (409),
        then the reason and fields (422).
        """
        if not action.permits(actor, item):
            raise Forbidden(f"{action.name} needs one of: {', '.join(action.who)}")
        state = item.get("state")
        if not action.creates and state not in action.sources:
            allowed = [a.name for a in self.available_in(state)]
            raise InvalidTransition(
                f"cannot {action.name} a {self.name.replace('_', ' ')} in state {state!r}; "
                f"actions allowed in {state!r}: {', '.join(allowed) or 'none (final state)'}"
            )
        if action.reason_required and not (reason and reason.strip()):
            raise ValidationFailed("reason", f"{action.name} requires a reason")
        refuse_nul("reason", reason or "")
        unknown = set(values) - set(action.fields)
        if unknown:
            raise ValidationFailed(sorted(unknown)[0], f"{action.name} does not take this field; "
                                   f"it takes: {', '.join(action.fields) or 'no fields'}")
        for name in action.requires:
            self._check_value(self.field_by_name[name], values.get(name), required=True)
        for name in action.accepts:
            spec = self.field_by_name[name]
            self._check_value(spec, values.get(name), required=action.creates and spec.required)
        unmet = action.unmet(item)
        if unmet is not None:
            raise RuleBroken(f"cannot {action.label}: {unmet.reason_for(item)}; {unmet.fix}")

    @staticmethod
    def _check_value(spec: Field, value: Any, *, required: bool) -> None:
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            if required:
                raise ValidationFailed(spec.name, f"{spec.name} is required")
            return
        expected = spec.type
        # bool is an int and datetime is a date in Python; neither is accepted for the other here.
        wrong_subtype = (expected is not bool and isinstance(value, bool)) or (
            expected is date and isinstance(value, datetime))
        if wrong_subtype or not isinstance(value, expected):
            raise ValidationFailed(spec.name, f"{spec.name} must be a {_type_name(expected)}")
        if expected is list and not all(isinstance(v, str) and len(v) <= spec.max_length for v in value):
            raise ValidationFailed(spec.name, f"{spec.name} must be a list of strings")
        if spec.choices and value not in spec.choices:
            raise ValidationFailed(spec.name, f"{spec.name} must be one of: {', '.join(spec.choices)}")
        if isinstance(value, str) and len(value) > spec.max_length:
            raise ValidationFailed(spec.name, f"{spec.name} is longer than {spec.max_length} characters")
        refuse_nul(spec.name, *(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)))
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValidationFailed(spec.name, f"{spec.name} must be a finite number")
        if spec.gt is not None and value <= spec.gt:
            raise ValidationFailed(spec.name, f"{spec.name} must be greater than {spec.gt}")
        if spec.le is not None and value > spec.le:
            raise ValidationFailed(spec.name, f"{spec.name} must be at most {spec.le}")
        if isinstance(value, date) and not (EARLIEST <= value <= LATEST):
            raise ValidationFailed(spec.name, f"{spec.name} must lie between {EARLIEST} and {LATEST}")

    def _check_consistency(self) -> None:
        """A table that names an unknown state, role or field is a programming error."""
        states = set(self.states)
        assert set(self.terminal) <= states, self.name
        assert sum(a.creates for a in self.actions) == 1, f"{self.name}: exactly one creating action"
        for a in self.actions:
            assert set(a.sources) <= states and (a.target is None or a.target in states), a.name
            assert not (a.creates and a.target is None), a.name
            assert set(a.fields) <= set(self.field_by_name), (a.name, a.fields)
            assert all(g in ROLES or g in RELATIONS for g in a.who), (a.name, a.who)
            assert a.event, f"{self.name}.{a.name} names no event"
            assert all(p.fix_action in (None, *self.by_name) for p in a.preconditions), a.name
        assert all(g in ROLES or g in RELATIONS for g in self.readers), self.readers
        assert set(self.filters) <= set(self.field_by_name), (self.name, self.filters)

    def as_document(self) -> dict[str, Any]:
        """The workflow as data, for `/workflows`."""
        return {
            "name": self.name,
            "collection": self.collection,
            "states": list(self.states),
            "initial": self.creating_action.target,
            "terminal": list(self.terminal),
            "readers": list(self.readers),
            "fields": [
                {"name": f.name, "type": _type_name(f.type), "required": f.required,
                 **({"choices": list(f.choices)} if f.choices else {}), "description": f.description}
                for f in self.fields
            ],
            "actions": [
                {"name": a.name, "from": list(a.sources), "to": a.target, "roles": list(a.who),
                 "required_fields": list(a.requires), "optional_fields": list(a.accepts),
                 "reason_required": a.reason_required, "event": a.event, "description": a.description,
                 "preconditions": [p.fix for p in a.preconditions]}
                for a in self.actions
            ],
        }

    def as_mermaid(self) -> str:
        """The state diagram in Mermaid's `stateDiagram-v2` syntax."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.creating_action.target}: {self.creating_action.name}"]
        for a in self.commands:
            for source in a.sources:
                lines.append(f"    {source} --> {a.target or source}: {a.name}")
        lines += [f"    {s} --> [*]" for s in self.terminal]
        return "\n".join(lines) + "\n"


def _type_name(t: type) -> str:
    return {str: "string", int: "integer", bool: "boolean", date: "date", Decimal: "number",
            list: "list of strings"}[t]


def refuse_nul(name: str, *texts: str, what: str | None = None) -> None:
    """ValidationFailed naming `name` if a text holds NUL: PostgreSQL text cannot hold one, and an event
    carrying it would stop the read models (and a filter holding it would fail the query)."""
    if any("\x00" in text for text in texts):
        raise ValidationFailed(name, f"{what or name} must not contain NUL characters")


def check_rule(holds: bool, message: str) -> None:
    """Refuse with RuleBroken when a business rule does not hold."""
    if not holds:
        raise RuleBroken(message)
