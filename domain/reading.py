"""Reading items, mixed into the application service: who may know an item exists, then the item
now, at a version, as it was at an instant (by when its events happened), and its history.

"May this caller know this item exists" is decided once, in `visible_item`, from the item as it
is now and before any version, instant or reminder is looked at. An id that names nothing, a
malformed one, one of another collection and one the caller may not read (another Party's
request; any support request for the EWG) all raise the same error with the same words, so no
later lookup can tell another Party's request from a missing one: not its version count, not
its creation instant, not its reminders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.actor import Actor
from domain.errors import NotFound
from domain.item import WorkflowItem
from domain.workflow import Workflow


def unknown_item(workflow: Workflow, item_id: UUID | str) -> NotFound:
    """What a caller is told of an id they may not know: exactly what an id that names nothing gets."""
    return NotFound(f"no {workflow.title.lower()} with id {item_id}")


class ItemReading:
    # Provided by the application this is mixed into.
    aggregates: Mapping[str, type[WorkflowItem]]
    repository: Any
    events: Any

    def visible_item(self, collection: str, item_id: UUID | str, actor: Actor, *,
                     unknown: NotFound | None = None) -> WorkflowItem:
        """The item as it is now, if the actor may know it exists; otherwise `unknown` (by default the
        error of an id that names nothing) whether it exists or not."""
        cls = self.aggregates[collection]
        hidden = unknown if unknown is not None else unknown_item(cls.workflow, item_id)
        try:
            item = self.repository.get(item_id if isinstance(item_id, UUID) else UUID(str(item_id)))
        except (ValueError, AggregateNotFoundError):
            raise hidden from None
        if not isinstance(item, cls) or not item.may_be_read_by(actor):
            raise hidden
        return item

    def get_item(self, collection: str, item_id: UUID | str, actor: Actor, *, version: int | None = None,
                 as_of: datetime | None = None) -> WorkflowItem:
        """The item now, at a version, or as it was at an instant; only for those who may read it."""
        item = self.visible_item(collection, item_id, actor)
        if as_of is not None:
            return self._as_of(item, as_of)
        if version is not None and version != item.version:
            return self._at_version(item, version)
        return item

    def history(self, collection: str, item_id: UUID | str, actor: Actor) -> list[dict[str, Any]]:
        """Every event of the item, oldest first, with the state before and after it: `at` when it was recorded,
        `occurred_at` when it happened (the same but for an import of past records)."""
        current = self.visible_item(collection, item_id, actor)
        entries, item = [], None
        for event in self.events.get(current.id):
            before = item.state if item is not None else None
            item = event.mutate(item)
            entries.append({"version": event.originator_version, "type": type(event).__qualname__,
                            "at": event.timestamp, "occurred_at": event.occurred_at, "actor": event.actor, "reason": event.reason,
                            "data": event.data, "state_before": before, "state_after": item.state})
        return entries

    # Both below are asked only about an item the caller may see, so what they tell (how many
    # versions it has, when it was created) is no more than its history shows that caller.

    def _at_version(self, item: WorkflowItem, version: int) -> WorkflowItem:
        if not 1 <= version <= item.version:  # asked before the store is: no query with a number it cannot hold
            raise NotFound(f"{item.workflow.title.lower()} {item.id} has no version {version}; "
                           f"it is at version {item.version}")
        return self.repository.get(item.id, version=version)

    def _as_of(self, current: WorkflowItem, instant: datetime) -> WorkflowItem:
        """The item as things stood at `instant`: its events up to the first that happened after it (by
        `occurred_at`, so an item imported today reads as it was in 2015)."""
        item = None
        for event in self.events.get(current.id):
            if event.occurred_at > instant:
                break
            item = event.mutate(item)
        if item is None:
            raise NotFound(f"{current.workflow.title.lower()} {current.id} did not exist at {instant.isoformat()}")
        return item
