"""The aggregate every workflow item is built on.

The public commands (`start_new`, `act`) run every check: the workflow table's
state, grant and field checks, then the item's named business rules. Only then
is an event triggered, and an event's `apply` only assigns state, so replaying
history runs no checks.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable, ClassVar, Mapping, Sequence
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.attachment import Attachment
from domain.calendar import BusinessCalendar
from domain.cheap_copy import CheapDeepCopy
from domain.effective_time import EffectiveEvent, EffectiveTime, effective
from domain.errors import Forbidden, InvalidTransition, RuleBroken, ValidationFailed
from domain.item_deadlines import DeadlineLadders
from domain.reminders import MENTION, MENTIONED, reminder_id
from domain.workflow import Action, Link, Workflow, refuse_nul

# A business rule: given the item's fields (with state) and the action's values,
# raise RuleBroken when the action must be refused.
Rule = Callable[[Mapping[str, Any], Mapping[str, Any]], None]
MAX_COMMENT_CHARACTERS = 10_000
# An item carries its comments in its fields (read models, pages and the API show them whole): so many, no more.
MAX_COMMENTS_PER_ITEM = 500
class WorkflowItem(CheapDeepCopy, DeadlineLadders, EffectiveTime, Aggregate):
    """An item of one workflow. A workflow module declares here, on its subclass, everything the rest of
    the system needs to know of it (routes, views, pages, reminders and the audit log derive from these),
    and domain/registry.py lists it: that is all adding a workflow takes."""

    workflow: ClassVar[Workflow]
    rules: ClassVar[dict[str, tuple[Rule, ...]]] = {}
    snapshotting_interval: ClassVar[int] = 50
    # Fields naming other items (see `Link`): checked on creation, and their items told of this one.
    links: ClassVar[tuple[Link, ...]] = ()
    # Fields that must name an existing user (a task's assignee).
    user_fields: ClassVar[tuple[str, ...]] = ()
    # The actions that derive fields from the working-day calendar (`derived_on_creation` for the creating
    # one, `derived_on_action` for the others): the application fetches the calendar, a query, only for these.
    derives_on: ClassVar[frozenset[str]] = frozenset()

    # Version 2 keeps `occurred_on` (the effective time of its last event: see domain/effective_time.py).
    class_version: ClassVar[int] = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A snapshot taken before effective time: its last event happened when it was recorded."""
        state["occurred_on"] = state["_modified_on"]

    class Event(EffectiveEvent, Aggregate.Event):
        """Every event says who did it, when it happened and, where given, why."""

        actor: str
        reason: str | None
        data: dict[str, Any]
        occurred_at: datetime

        def mutate(self, item: "WorkflowItem | None") -> "WorkflowItem | None":
            item = super().mutate(item)
            item.occurred_on = self.occurred_at
            return item

        def apply(self, item: "WorkflowItem") -> None:
            action = item.workflow_action_for(type(self).__name__)
            before = item.dues_before(self)
            item.fields.update(self.data)
            if action.target is not None:
                item.state = action.target
            item.keep_ladders(self, before)

    class Created(Event, Aggregate.Created):
        def apply(self, item: "WorkflowItem") -> None:
            item.state = ""
            item.fields = {}
            super().apply(item)

    # Reminders are events on the item they concern, so they appear in its history. Their
    # bookkeeping lives in `fields["reminders"]` (reminder id -> deadline, due, rung, addressees,
    # who acknowledged it), so a read model's copy of the item knows its ladders too.
    class ReminderRaised(Event):
        def apply(self, item: "WorkflowItem") -> None:
            data = self.data
            entry = {"deadline": data["deadline"], "due": data["due"], "rung": data["rung"],
                     "addressed_to": data["addressed_to"], "acknowledged_by": None, "acknowledged_at": None}
            item.fields["reminders"] = {**item.fields.get("reminders", {}), data["reminder_id"]: entry}

    class ReminderAcknowledged(Event):
        def apply(self, item: "WorkflowItem") -> None:
            reminders = item.fields["reminders"]
            entry = {**reminders[self.data["reminder_id"]], "acknowledged_by": self.actor,
                     "acknowledged_at": self.timestamp}
            item.fields["reminders"] = {**reminders, self.data["reminder_id"]: entry}

    # A file attached to the item: its description (the bytes are kept outside the store, by digest).
    # `fields["attachments"]` lists them in the order attached, so a read model's copy knows them too.
    class AttachmentAdded(Event):
        def apply(self, item: "WorkflowItem") -> None:
            entry = {**self.data, "added_by": self.actor, "added_at": self.timestamp}
            item.fields["attachments"] = [*item.fields.get("attachments", []), entry]

    # A comment on the item: `{"comment_id", "text", "mentions"}` (the users it notified), with its author and
    # time. `fields["comments"]` lists them in order, so a read model's copy (and the search index) knows them.
    class CommentAdded(Event):
        def apply(self, item: "WorkflowItem") -> None:
            entry = {**self.data, "author": self.actor, "at": self.timestamp}
            item.fields["comments"] = [*item.fields.get("comments", []), entry]

    def __init__(self) -> None:
        # State is assigned by the Created event's apply, so replay and creation agree.
        self.state: str
        self.fields: dict[str, Any]
        self.occurred_on: datetime  # the effective time of the last event (its `mutate` sets it)

    # -- what a workflow declares (defaults: nothing of the kind) -----------

    @classmethod
    def id_for_new(cls, values: Mapping[str, Any]) -> UUID | None:
        """The id a new item takes from its values (so the store itself refuses a duplicate); None: a fresh one."""
        return None

    @classmethod
    def duplicate_message(cls, values: Mapping[str, Any]) -> str:
        """What a creation is told (409) when `id_for_new` names an item that exists already."""
        return f"a {cls.workflow.title.lower()} with these values already exists"

    @classmethod
    def derived_on_creation(cls, today: date, calendar: BusinessCalendar, values: Mapping[str, Any]) -> dict[str, Any]:
        """Fields fixed when the item is created, from the (checked) values, today and the working days."""
        return {}


    # Both are told `now` (recorded) and leave the child's effective time on their own event (`child.occurred_on`).
    def child_created(self, child: "WorkflowItem", link: Link, *, actor: Actor, now: datetime) -> None:
        """An item naming this one by `link` was created; saved with it, so a refusal here refuses both."""

    def child_closed(self, child: "WorkflowItem", link: Link, *, actor: Actor, now: datetime) -> None:
        """An item naming this one by `link` reached a final state; saved with it."""

    def _told_of(self, child: "WorkflowItem", now: datetime) -> datetime:
        """The effective time of this item's event about `child`: the child's own, checked against this item's."""
        return effective(child.occurred_on, now, previous=self.occurred_on)

    def facets(self) -> dict[str, list[str]]:
        """The values the item is listed and read-scoped by: each list filter's value (a list field gives
        several) and its `party`. Lists filter on these; a Party liaison lists the items whose `party` is theirs."""
        found: dict[str, list[str]] = {}
        for name in (*self.workflow.filters, "party"):
            value = self.fields.get(name)
            values = value if isinstance(value, list) else [] if value is None or value == "" else [value]
            if values:
                found[name] = [_facet(v) for v in values]
        return found

    # -- commands ---------------------------------------------------------

    @classmethod
    def start_new(cls, actor: Actor, values: Mapping[str, Any], *, now: datetime, reason: str | None = None,
                  derived: Mapping[str, Any] | None = None, item_id: UUID | None = None,
                  today: date | None = None, calendar: BusinessCalendar | None = None,
                  occurred_at: datetime | None = None) -> "WorkflowItem":
        """Create the item by its workflow's creating action, after every check; given the calendar, with what
        `derived_on_creation` derives from the checked values. `occurred_at` (an import of past records): when it
        happened, not after `now`; by default `now`."""
        action = cls.workflow.creating_action
        occurred_at = effective(occurred_at, now, previous=None)
        values = _given(values)
        cls._refuse_unless_allowed(action, actor, {"state": None, **values}, values, reason)
        if calendar is not None:
            derived = {**cls.derived_on_creation(today or now.date(), calendar, values), **(derived or {})}
        event_class = cls.event_class_for(action)
        return cls._create(event_class, id=item_id or uuid4(), timestamp=now, occurred_at=occurred_at,
                           actor=actor.username, reason=reason, data={**values, **(derived or {})})

    def act(self, action_name: str, actor: Actor, values: Mapping[str, Any], *, now: datetime,
            reason: str | None = None, derived: Mapping[str, Any] | None = None,
            occurred_at: datetime | None = None) -> None:
        """Take a non-creating action of the workflow, after every check; `derived` is recorded beside the values.
        `occurred_at` (an import of past records): when it happened, between the item's last event and `now`."""
        action = self.workflow.action(action_name)
        if action.creates:
            raise InvalidTransition(f"{action.name} creates a new {self.workflow.title.lower()}; "
                                    f"it is not an action on an existing one")
        values = _given(values)
        occurred_at = effective(occurred_at, now, previous=self.occurred_on)
        self._refuse_unless_allowed(action, actor, self.view(), values, reason)
        self.trigger_event(self.event_class_for(action), timestamp=now, occurred_at=occurred_at,
                           actor=actor.username, reason=reason, data={**values, **(derived or {})})

    @classmethod
    def _refuse_unless_allowed(cls, action: Action, actor: Actor, item: Mapping[str, Any],
                               values: Mapping[str, Any], reason: str | None) -> None:
        cls.workflow.check(action, actor, item, values, reason)
        for rule in cls.rules.get(action.name, ()):
            rule(item, values)

    @classmethod
    def derived_on_action(cls, action: str, calendar: BusinessCalendar, item: Mapping[str, Any],
                          values: Mapping[str, Any]) -> dict[str, Any]:
        """What an action records beside its values, worked out by the application (e.g. new due dates)."""
        return {}

    @classmethod
    def restore(cls, item_id: UUID, version: int, created_on: datetime, modified_on: datetime, state: str,
                fields: dict[str, Any], occurred_on: datetime | None = None) -> "WorkflowItem":
        """The item from a read model's copy of its state, without replaying its events.

        Read models keep this copy so that lists and dashboards never replay aggregates;
        the restored item answers `allowed_actions`, `deadlines` and read checks as the
        replayed one would, and further events apply to it as usual.
        """
        item = cls.__new__(cls)
        item.__base_init__(item_id, version, created_on)
        item.modified_on = modified_on
        item.occurred_on = occurred_on or modified_on
        item.state = state
        item.fields = fields
        return item

    def attach(self, attachment: Attachment, actor: Actor, *, now: datetime) -> bool:
        """Record a file attached to the item; False (and no event) if a file with its digest already is."""
        if not self.may_attach(actor):
            raise Forbidden(f"attaching files to a {self.workflow.title.lower()} needs a role that may act on it")
        if self.attachment(attachment.sha256) is not None:
            return False
        self.trigger_event(self.AttachmentAdded, timestamp=now, actor=actor.username, reason=None,
                           data=attachment.as_data())
        return True

    def comment(self, text: str, actor: Actor, *, now: datetime, notify: Sequence[str] = (),
                today: date | None = None) -> dict[str, Any]:
        """Record a comment (`CommentAdded`); the users in `notify` (whom the application found may read the item)
        are told by a reminder in their inbox, raised in the same save. The comment as recorded."""
        if not self.may_comment(actor):
            raise Forbidden(f"commenting on a {self.workflow.title.lower()} needs a role that may act on it")
        text = text.strip()
        if not text:
            raise ValidationFailed("text", "the comment is empty: write something")
        refuse_nul("text", text, what="a comment")
        if len(text) > MAX_COMMENT_CHARACTERS:
            raise ValidationFailed("text", f"a comment holds at most {MAX_COMMENT_CHARACTERS} characters, "
                                           f"not {len(text)}")
        # From its event's item and version, like a reminder's id: every process that reads it names it alike.
        if len(self.comments) >= MAX_COMMENTS_PER_ITEM:
            raise RuleBroken(f"this {self.workflow.title.lower()} has {len(self.comments)} comments, the most an "
                             f"item holds; carry the discussion on in an attached document or a new item")
        comment_id = str(uuid5(NAMESPACE_URL, f"secretariat:comment:{self.id}:{self.version + 1}"))
        self.trigger_event(self.CommentAdded, timestamp=now, actor=actor.username, reason=None,
                           data={"comment_id": comment_id, "text": text, "mentions": list(notify)})
        if notify:
            day = today or now.date()
            self.trigger_event(self.ReminderRaised, timestamp=now, actor=actor.username, reason=None, data={
                "reminder_id": str(reminder_id(self.id, self.version + 1)), "deadline": MENTION, "due": day,
                "rung": MENTIONED, "instant": now, "addressed_to": [f"user:{name}" for name in notify],
                "title": self.title, "comment_id": comment_id})
        return self.comments[-1]

    # -- queries ----------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The item's fields with its state, as the grants and rules see it."""
        return {**self.fields, "state": self.state}

    def allowed_actions(self, actor: Actor) -> list[str]:
        return self.workflow.allowed_actions(actor, self.view())

    def blocked_actions(self, actor: Actor) -> list[dict[str, str]]:
        """What the actor's role may do in this state but a precondition stands in the way of, and the fix."""
        return self.workflow.blocked_actions(actor, self.view())

    def may_be_read_by(self, actor: Actor) -> bool:
        return self.workflow.may_read(actor, self.view())

    def may_attach(self, actor: Actor) -> bool:
        """Whoever reads the item and may take some action of its workflow on it (in any state): never an
        auditor, who never changes items; a Party liaison on their own Party's request."""
        item = self.view()
        return self.may_be_read_by(actor) and any(a.permits(actor, item) for a in self.workflow.actions)

    def may_comment(self, actor: Actor) -> bool:
        """Whoever may attach files: a reader who may act on the item, never an auditor."""
        return self.may_attach(actor)

    @property
    def comments(self) -> list[dict[str, Any]]:
        return self.fields.get("comments", [])

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.fields.get("attachments", [])

    def attachment(self, sha256: str) -> dict[str, Any] | None:
        return next((a for a in self.attachments if a["sha256"] == sha256), None)

    @property
    def is_closed(self) -> bool:
        return self.state in self.workflow.terminal

    @property
    def title(self) -> str:
        """What names the item where it travels beyond its readers' pages (e-mail subjects, calendar feeds,
        reminders): it says which item, never what a confidential one says."""
        return self.fields.get("title") or self.workflow.title

    @property
    def label(self) -> str:
        """What names the item to those who read it (pages, lists, search, exports): by default its title."""
        return self.title

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


def _facet(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
