"""Every workflow item's events, read once from the log, and the item as it was at any instant.

A report asks about every item at two instants (the previous meeting's and this one's), so it
reads the notification log once rather than each item's events one query at a time. An item
"as of" an instant is replayed exactly as `GET /{collection}/{id}?as_of=` replays it (domain/
reading.py): its events in version order, up to the first one that happened (`occurred_at`) after
the instant, so a history imported today reads as it was when it happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator
from uuid import UUID

from domain.application import SecretariatApplication
from domain.item import WorkflowItem

BATCH = 1000


@dataclass(frozen=True)
class Step:
    """One event of an item, with the item's state before and after it."""

    at: datetime  # when it happened
    event_type: str
    actor: str
    state_before: str | None  # None: the event created the item
    state_after: str


@dataclass
class Timeline:
    """One item's events, oldest first."""

    events: list[Any] = field(default_factory=list)
    # A report asks about the same item at the same few instants many times: each replayed once.
    _replayed: dict[datetime | None, WorkflowItem | None] = field(default_factory=dict)

    def current(self) -> WorkflowItem:
        """The item as it is now."""
        item = self.as_of(None)
        assert item is not None  # a timeline holds at least the event that created its item
        return item

    def as_of(self, instant: datetime | None) -> WorkflowItem | None:
        """The item as it was at `instant` (None: as it is now); None if it did not exist yet.

        The same object for the same instant: callers read it and never act on it."""
        if instant not in self._replayed:
            item = None
            for event in self.events:
                if instant is not None and event.occurred_at > instant:
                    break
                item = event.mutate(item)
            self._replayed[instant] = item
        return self._replayed[instant]

    def steps_between(self, since: datetime | None, until: datetime) -> Iterator[Step]:
        """The events that the replay as of `until` applies and the replay as of `since` does not."""
        item, state = None, None
        for event in self.events:
            if event.occurred_at > until:
                break
            item = event.mutate(item)
            if since is None or event.occurred_at > since:
                yield Step(event.occurred_at, type(event).__name__, event.actor, state, item.state)
            state = item.state


class ItemLog:
    """The timelines of every workflow item in the store, by collection."""

    def __init__(self, service: SecretariatApplication) -> None:
        self.aggregates: dict[str, type[WorkflowItem]] = dict(service.aggregates)
        self.by_collection: dict[str, dict[UUID, Timeline]] = {c: {} for c in service.aggregates}
        collection_of = {cls: c for c, cls in service.aggregates.items()}
        timelines: dict[UUID, Timeline] = {}
        for event in _logged_events(service):
            timeline = timelines.get(event.originator_id)
            if timeline is None:
                owner = _collection_created_by(event, collection_of)
                if owner is None:  # users, idempotency records, calendars: not items
                    timelines[event.originator_id] = Timeline()  # kept, and left out of every collection
                    continue
                timeline = timelines[event.originator_id] = self.by_collection[owner][event.originator_id] = Timeline()
            timeline.events.append(event)

    def timelines(self, collection: str) -> dict[UUID, Timeline]:
        return self.by_collection[collection]


def _logged_events(service: SecretariatApplication) -> Iterator[Any]:
    position = 1
    while True:
        batch = service.recorder.select_notifications(position, BATCH)
        if not batch:
            return
        for notification in batch:
            yield service.mapper.to_domain_event(notification)
        position = batch[-1].id + 1


def _collection_created_by(event: Any, collection_of: dict[type, str]) -> str | None:
    """The collection of the item an item's first event creates, or None for any other aggregate."""
    if event.originator_version != 1:
        return None
    owner = type(event).__qualname__.rpartition(".")[0]  # events are nested in their aggregate's class
    for cls, collection in collection_of.items():
        if cls.__qualname__ == owner and isinstance(event, WorkflowItem.Event):
            return collection
    return None
