"""Importing a past history, mixed into the application service: every line runs the checks a live command runs.

Each item of the history is all or nothing: its events are built in memory and saved once, together with
every other accepted item, or not at all. A line refused refuses its whole item, and the items that name a
refused item. A refused item may already have touched an item it links to in memory (a mandate told of a new
task), so after a pass that refused something new, the history is built again from scratch without the
refused items: what is saved is exactly what the accepted items' lines make, as if the others were never there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence
from uuid import UUID

from domain.actor import Actor
from domain.calendar import BusinessCalendar
from domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from domain.item import WorkflowItem
from domain.reading import unknown_item
from domain.workflow import Link

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

# Above so many items, which of them the store holds already is read off the log in one pass.
SCAN_ABOVE = 200
# Called after each line run: (lines run so far in this pass, lines in all).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class HistoryLine:
    """One checked line of a history: its item's id already derived, `$ref`s already replaced by ids."""

    number: int
    ref: str
    item_id: UUID
    collection: str
    action: str
    actor: Actor
    occurred_at: datetime
    values: Mapping[str, Any]
    reason: str | None = None
    names: frozenset[str] = frozenset()  # the refs of the other items its values name


@dataclass
class HistoryOutcome:
    imported: dict[str, UUID] = field(default_factory=dict)  # ref -> id, in the order first met
    present: dict[str, UUID] = field(default_factory=dict)  # already in the store: left as they are
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)  # ref -> (line number, why)
    events: int = 0  # events recorded (or, in a dry run, that would be), the linked items' bookkeeping included
    dry_run: bool = False


class HistoryImport:
    # Provided by the application this is mixed into.
    aggregates: Mapping[str, type[WorkflowItem]]
    clock: Callable[[], datetime]
    tz: Any
    recorder: Any
    save: Callable[..., Any]
    business_calendar: Callable[[], BusinessCalendar]
    _check_references: Callable[[WorkflowItem, Mapping[str, Any]], None]
    _load: Callable[[type, UUID | str], Any]

    def import_history(self, lines: Sequence[HistoryLine], *, dry_run: bool = False,
                       refused: Mapping[str, tuple[int, str]] | None = None,
                       progress: Progress | None = None) -> HistoryOutcome:
        """Record the history's items that pass every check, each whole, in one transaction (nothing in a dry
        run); items already in the store are left as they are, so importing the same history again adds nothing.
        `refused`: items the importer refused already (ref -> line, why), so that items naming them are refused."""
        outcome = HistoryOutcome(dry_run=dry_run, refused=dict(refused or {}))
        first_ids: dict[str, UUID] = {}  # ref -> id, in the order the refs first appear
        for line in lines:
            first_ids.setdefault(line.ref, line.item_id)
        stored = self._stored_among(set(first_ids.values()))
        outcome.present = {ref: item_id for ref, item_id in first_ids.items() if item_id in stored}
        while True:
            known = dict(outcome.refused)
            touched = self._run_pass(lines, outcome, progress)
            if outcome.refused.keys() == known.keys():
                break
        outcome.imported = {ref: item_id for ref, item_id in first_ids.items()
                            if ref not in outcome.present and ref not in outcome.refused}
        changed = [item for item in touched.values() if item.pending_events]
        outcome.events = sum(len(item.pending_events) for item in changed)
        if changed and not dry_run:
            try:
                self.save(*changed)
            except IntegrityError:
                raise Conflict("an item the history touches was changed while it was imported; "
                               "import it again (what is already in is left as it is)") from None
        return outcome

    def _run_pass(self, lines: Sequence[HistoryLine], outcome: HistoryOutcome,
                  progress: Progress | None) -> dict[UUID, WorkflowItem]:
        """Run every line of the items not known to be refused or present, in order; the items touched."""
        touched: dict[UUID, WorkflowItem] = {}
        now, calendar, users = self.clock(), _Lazy(self.business_calendar), set()
        for done, line in enumerate(lines, 1):
            refused_named = sorted(r for r in line.names if r in outcome.refused)
            if line.ref in outcome.present or line.ref in outcome.refused:
                pass  # left as it is, or its item was refused already (on an earlier line or pass)
            elif refused_named:
                outcome.refused[line.ref] = (line.number, f"it names {refused_named[0]!r}, which was refused "
                                                          f"(line {outcome.refused[refused_named[0]][0]})")
            else:
                try:
                    self._run_line(line, touched, now, calendar, users)
                except DomainError as error:
                    outcome.refused[line.ref] = (line.number, _reason(error))
                    touched.pop(line.item_id, None)
            if progress is not None:
                progress(done, len(lines))
        return touched

    def _run_line(self, line: HistoryLine, touched: dict[UUID, WorkflowItem], now: datetime,
                  calendar: "_Lazy", users: set[str]) -> None:
        cls = self.aggregates[line.collection]
        if line.item_id not in touched:  # its first line (the importer checks it is the creating action)
            item = cls.start_new(line.actor, line.values, now=now, reason=line.reason, item_id=line.item_id,
                                 today=line.occurred_at.astimezone(self.tz).date(), occurred_at=line.occurred_at,
                                 calendar=calendar() if cls.workflow.creating_action.name in cls.derives_on else None)
            self._check_users(item, line.values, users)
            for link, parent_id in _links_of(item):
                self._parent(link, parent_id, touched).child_created(item, link, actor=line.actor, now=now)
            touched[item.id] = item
            return
        item = touched[line.item_id]
        if not item.may_be_read_by(line.actor):
            raise unknown_item(cls.workflow, item.id)
        was_closed = item.is_closed
        derived = (item.derived_on_action(line.action, calendar(), item.view(), line.values)
                   if line.action in item.derives_on else None)
        item.act(line.action, line.actor, line.values, now=now, reason=line.reason, derived=derived,
                 occurred_at=line.occurred_at)
        self._check_users(item, line.values, users)
        if item.is_closed and not was_closed:
            for link, parent_id in _links_of(item):
                self._parent(link, parent_id, touched).child_closed(item, link, actor=line.actor, now=now)

    def _parent(self, link: Link, parent_id: str, touched: dict[UUID, WorkflowItem]) -> WorkflowItem:
        """The item a link names: one built in this import, or one from the store (then kept with the touched)."""
        cls = self.aggregates[link.collection]
        try:
            uuid = UUID(str(parent_id))
        except ValueError:
            uuid = None
        parent = touched.get(uuid) if uuid else None
        if parent is None:
            try:
                parent = self._load(cls, parent_id)
            except NotFound:
                raise ValidationFailed(link.field, f"{link.field} {parent_id} names no existing "
                                                   f"{cls.workflow.title.lower()}") from None
            touched[parent.id] = parent
        if not isinstance(parent, cls):
            raise ValidationFailed(link.field, f"{link.field} {parent_id} names no {cls.workflow.title.lower()}")
        return parent

    def _check_users(self, item: WorkflowItem, values: Mapping[str, Any], known: set[str]) -> None:
        """The live commands' check that fields naming users name users, each user looked up once per import."""
        named = {name: values[name] for name in type(item).user_fields if values.get(name) not in (None, *known)}
        if named:
            self._check_references(item, named)
            known.update(named.values())

    def _stored_among(self, ids: set[UUID]) -> set[UUID]:
        """Which of these items the store holds: asked one by one for a few, else read off the log's creations
        (one pass over the log costs less than thousands of round trips)."""
        if len(ids) <= SCAN_ABOVE:
            return {item_id for item_id in ids if self.recorder.select_events(item_id, limit=1)}
        topics = [get_topic(cls.event_class_for(cls.workflow.creating_action)) for cls in self.aggregates.values()]
        head, position, found = self.recorder.max_notification_id() or 0, 1, set()
        while position <= head:
            batch = self.recorder.select_notifications(position, 1000, topics=topics)
            if not batch:
                break
            found.update(n.originator_id for n in batch if n.originator_id in ids)
            position = batch[-1].id + 1
        return found


class _Lazy:
    """The business calendar, fetched (a query) the first time a line needs it."""

    def __init__(self, fetch: Callable[[], BusinessCalendar]) -> None:
        self.fetch, self.value = fetch, None

    def __call__(self) -> BusinessCalendar:
        if self.value is None:
            self.value = self.fetch()
        return self.value


def _links_of(item: WorkflowItem) -> list[tuple[Link, str]]:
    return [(link, item.fields[link.field]) for link in type(item).links if item.fields.get(link.field)]


def _reason(error: DomainError) -> str:
    """The refusal as the API would word it, naming the field when the message does not start with it."""
    name = error.field if isinstance(error, ValidationFailed) else None
    return f"{name}: {error.detail}" if name and not error.detail.startswith(name) else error.detail
