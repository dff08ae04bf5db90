"""The reminders view: every reminder raised, to whom, and whether it was acknowledged; the inbox reads it.

`view_reminders` has one row per reminder; `view_reminder_addressees` one row per addressee
(`user:NAME` or `role:ROLE`), so "mine" is an index range on the caller's name and roles
however many reminders there are.
"""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import BigInteger, Column, Connection, Date, DateTime, Index, MetaData, String, Table, Text, update

from domain.registry import WORKFLOW_ITEMS
from domain.item import WorkflowItem
from projections.views import copies_beside

metadata = MetaData()

reminders = Table(
    "view_reminders", metadata,
    Column("id", String(36), primary_key=True),
    Column("item_id", String(36), nullable=False),
    Column("collection", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("deadline", String(32), nullable=False),
    Column("due", Date, nullable=False),
    Column("rung", String(16), nullable=False),
    Column("instant", DateTime(timezone=True), nullable=False),  # when the rung fell due
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("addressed_to", Text, nullable=False),  # comma-separated, for display
    Column("acknowledged_by", String(64)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Index("ix_view_reminders_newest", "position"),
    Index("ix_view_reminders_item", "item_id"),
)

addressees = Table(
    "view_reminder_addressees", metadata,
    Column("reminder_id", String(36), primary_key=True),
    Column("addressee", String(80), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Index("ix_view_reminder_addressees_inbox", "addressee", "position"),
)


class RemindersProjection:
    name = "reminders"
    version = 1

    def __init__(self, tables: tuple[Table, ...] = (reminders, addressees)) -> None:
        self.tables = tables
        self._reminders, self._addressees = tables

    def beside(self, suffix: str) -> "RemindersProjection":
        return RemindersProjection(copies_beside(self.tables, suffix))

    def handle(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> None:
        rows, inbox = [], []
        for position, event in batch:
            if isinstance(event, WorkflowItem.ReminderRaised):
                data = event.data
                rows.append({"id": data["reminder_id"], "item_id": str(event.originator_id),
                             "collection": collection_of(event), "title": data["title"],
                             "deadline": data["deadline"], "due": data["due"], "rung": data["rung"],
                             "instant": data["instant"], "raised_at": event.timestamp, "position": position,
                             "addressed_to": ", ".join(data["addressed_to"])})
                inbox += [{"reminder_id": data["reminder_id"], "addressee": a, "position": position}
                          for a in data["addressed_to"]]
            elif isinstance(event, WorkflowItem.ReminderAcknowledged):
                self._write(conn, rows, inbox)
                rows, inbox = [], []
                conn.execute(update(self._reminders).where(self._reminders.c.id == event.data["reminder_id"])
                             .values(acknowledged_by=event.actor, acknowledged_at=event.timestamp))
        self._write(conn, rows, inbox)

    def _write(self, conn: Connection, rows: list[dict], inbox: list[dict]) -> None:
        # Written before any acknowledgement that follows them in the batch, so the update finds its row.
        if rows:
            conn.execute(self._reminders.insert(), rows)
            conn.execute(self._addressees.insert(), inbox)


def collection_of(event: WorkflowItem.Event) -> str:
    """The collection of the item an event belongs to, from the event's class (e.g. `Task.ReminderRaised`)."""
    owner = type(event).__qualname__.split(".")[0]
    return next(cls.workflow.collection for cls in WORKFLOW_ITEMS if cls.__name__ == owner)
