"""Raising and acknowledging reminders, mixed into the application service.

The scheduler only nominates items (from the deadlines view); whether a rung is due, and
whether it was already raised, is decided by the item itself as loaded from its events. So a
stale view, two schedulers at once or a restart can cost a wasted load, never a second reminder.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.errors import Conflict
from domain.item import WorkflowItem
from domain.reminders import ReminderClock, unknown_reminder

log = logging.getLogger("secretariat.reminders")


class Reminding:
    # Provided by the application this is mixed into.
    clock: Callable[[], datetime]
    reminder_clock: ReminderClock
    save: Callable[..., Any]
    repository: Any
    visible_item: Callable[..., WorkflowItem]

    def raise_reminders(self, item_ids: Iterable[UUID | str]) -> list[dict[str, Any]]:
        """Raise every rung now due on these items, loaded from the store; the reminders raised."""
        return self.raise_reminders_on([item for item in map(self._fresh, item_ids) if item is not None])

    def raise_reminders_on(self, items: Sequence[WorkflowItem]) -> list[dict[str, Any]]:
        """Raise every rung now due on these items; the reminders raised, each with its item's id and collection.

        The items may be copies restored from a read model, which saves loading each from its
        events: a copy that is behind the store fails on its version when saved, and is then
        loaded afresh. The items are saved together, in one transaction; if one of them was
        changed meanwhile (another scheduler, someone acting on it), they are retried one by
        one from their latest version, so that one busy item does not hold the others back.
        """
        now = self.clock()
        raised = [(item, item.raise_due_reminders(self.reminder_clock, now)) for item in items]
        changed = [item for item, reminders in raised if reminders]
        if not changed:
            return []
        try:
            self.save(*changed)
        except IntegrityError:
            raised = [(item, self._raise_alone(item.id, now)) for item in changed]
        return [{**reminder, "item_id": str(item.id), "collection": item.workflow.collection}
                for item, reminders in raised for reminder in reminders]

    def acknowledge_reminder(self, collection: str, item_id: UUID | str, reminder_id: str,
                             actor: Actor) -> tuple[WorkflowItem, int | None]:
        """Record that the reminder was seen, by one of those it is addressed to; seen twice is still once.

        The item, and the log position of the acknowledgement (None when it had been acknowledged already).
        A reminder on an item the actor may not know of is answered as one that does not exist.
        """
        item = self.visible_item(collection, item_id, actor, unknown=unknown_reminder(reminder_id))
        if not item.acknowledge_reminder(reminder_id, actor, now=self.clock()):
            return item, None
        try:
            recordings = self.save(item)
        except IntegrityError:
            raise Conflict("the item was changed at the same time; try again") from None
        return item, recordings[-1].notification.id

    def _raise_alone(self, item_id: UUID, now: datetime) -> list[dict[str, Any]]:
        item = self._fresh(item_id)
        if item is None:
            return []
        reminders = item.raise_due_reminders(self.reminder_clock, now)
        if reminders:
            try:
                self.save(item)
            except IntegrityError:
                # Changed again in the meantime: the next tick looks at it afresh.
                log.info("item %s changed while raising its reminders; left for the next tick", item_id)
                return []
        return reminders

    def _fresh(self, item_id: UUID | str) -> WorkflowItem | None:
        try:
            item = self.repository.get(item_id if isinstance(item_id, UUID) else UUID(str(item_id)))
        except AggregateNotFoundError:  # nominated by a view that knows more than this store: skipped
            return None
        return item if isinstance(item, WorkflowItem) else None
