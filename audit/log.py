"""The global audit log: one row per event of every item, user and the closures calendar, in log order.

`view_audit_events` is keyed by the event's position in the notification log, so paging
by `after` (the last position seen) is stable while new events arrive: they only ever
come after every row already there.

What goes in: every event of every registered workflow's items (kind from the workflow's
name: `mandate`, `task`, `support_request`, ...), of users (`user`: registration, role
grants and revocations, e-mail and password changes) and of the closures calendar
(`calendar`). A password hash never does: any `password_hash` attribute is dropped, so
`User.PasswordChanged` is recorded with data `{}` and `User.Registered` without it.
Idempotency records are left out: they are bookkeeping of HTTP answers, not decisions,
and their events carry the request's fingerprint. Any other aggregate's events go in
under the snake-case name of its class.

Each row has both times: `at`, when the event was recorded (the store's timestamp), and `occurred_at`,
when what it records happened (the event's effective time: equal for live commands, earlier for a
past record imported later). The log's order and its `since`/`until` filters stay by recording.

`data` is the event's data in the event store's own transcoding (dates, decimals), so it
decodes back to the values the event carried. `party` is, on every event of a workflow
confidential between Parties (`Workflow.party_scoped`: support requests), the `party` its
creating event gave (a support request's requesting Party), so confidentiality is a column
filter; a confidential workflow without a single `party` shows a Party-scoped reader none.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Sequence

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Transcoder
from sqlalchemy import (BigInteger, Column, Connection, DateTime, Index, Integer, MetaData, String, Table, Text,
                        bindparam, select)

from audit.access import confidential_workflows
from domain.closures import Closures
from domain.idempotency import IdempotencyRecord
from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from domain.user import User
from projections.bulk import insert_rows
from projections.views import copies_beside

metadata = MetaData()

audit_events = Table(
    "view_audit_events", metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("item_id", String(36), nullable=False),
    Column("collection", String(32)),  # None for users and the calendar
    Column("version", Integer, nullable=False),
    Column("type", String(80), nullable=False),  # the event class's qualname: `Task.Started`
    Column("name", String(64), nullable=False),  # its last part, `Started`, for the short `type` filter
    Column("at", DateTime(timezone=True), nullable=False),  # recorded
    Column("occurred_at", DateTime(timezone=True), nullable=False),  # happened (the event's effective time)
    Column("actor", String(80)),
    Column("reason", Text),
    Column("data", Text, nullable=False),
    Column("party", String(8)),  # a support request's Party
    Index("ix_view_audit_events_actor", "actor", "position"),
    Index("ix_view_audit_events_item", "item_id", "position"),
    Index("ix_view_audit_events_type", "type", "position"),
    Index("ix_view_audit_events_name", "name", "position"),
    Index("ix_view_audit_events_at", "at"),
)

# Attributes every event has, which have columns of their own (or say nothing an auditor needs).
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "occurred_at", "originator_topic", "actor",
                       "reason"})
_SECRET = frozenset({"password_hash"})
_LEFT_OUT = (IdempotencyRecord,)
_OTHER_KINDS: dict[str, tuple[str, str | None]] = {User.__name__: ("user", None), Closures.__name__: ("calendar", None)}
_LEFT_OUT_NAMES = frozenset(cls.__name__ for cls in _LEFT_OUT)


def kind_of(event: Any) -> tuple[str, str | None] | None:
    """(kind, collection) of the aggregate an event belongs to, from its class; None: left out of the log."""
    owner = type(event).__qualname__.split(".")[0]
    if owner in _LEFT_OUT_NAMES:
        return None
    kinds = _kinds(tuple(WORKFLOW_ITEMS))
    return kinds.get(owner) or (re.sub(r"(?<!^)(?=[A-Z])", "_", owner).lower(), None)


@functools.lru_cache(maxsize=8)
def _kinds(classes: tuple[type[WorkflowItem], ...]) -> dict[str, tuple[str, str | None]]:
    """Class name -> (kind, collection), for the workflows registered (looked up per event: kept per registry)."""
    return {**{cls.__name__: (cls.workflow.name, cls.workflow.collection) for cls in classes}, **_OTHER_KINDS}


def _confidential_kinds() -> frozenset[str]:
    return frozenset(w.name for w in confidential_workflows())


def data_of(event: Any) -> dict[str, Any]:
    """What the event says beyond who, when and why, never a password hash."""
    if isinstance(event, WorkflowItem.Event):
        data = dict(event.data)
    else:
        data = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
    for secret in _SECRET:
        data.pop(secret, None)
    return data


_COLUMNS = ("position", "kind", "item_id", "collection", "version", "type", "name", "at", "occurred_at", "actor",
            "reason", "data", "party")


@functools.cache
def _first_parties(table: Table) -> Any:
    """The Party of each item given as `ids`, from its first event (built once per table)."""
    return select(table.c.item_id, table.c.party).where(table.c.item_id.in_(bindparam("ids", expanding=True)),
                                                        table.c.version == 1)


class AuditLogProjection:
    name = "audit_log"
    version = 2  # 2: occurred_at beside at

    def __init__(self, transcoder: Transcoder, tables: tuple[Table, ...] = (audit_events,)) -> None:
        self.transcoder = transcoder
        self.tables = tables
        (self._events,) = tables

    def beside(self, suffix: str) -> "AuditLogProjection":
        return AuditLogProjection(self.transcoder, copies_beside(self.tables, suffix))

    def handle(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> None:
        rows = []
        confidential = _confidential_kinds()
        for position, event in batch:
            kind = kind_of(event)
            if kind is None:
                continue
            reason = getattr(event, "reason", None)
            rows.append({"position": position, "kind": kind[0], "item_id": str(event.originator_id),
                         "collection": kind[1], "version": event.originator_version,
                         "type": type(event).__qualname__, "name": type(event).__name__, "at": event.timestamp,
                         "occurred_at": getattr(event, "occurred_at", None) or event.timestamp,
                         "actor": getattr(event, "actor", None), "reason": reason,
                         "data": self.transcoder.encode(data_of(event)).decode(), "party": None})
            if kind[0] in confidential and isinstance(event, Aggregate.Created):
                party = event.data.get("party")
                rows[-1]["party"] = party if isinstance(party, str) else None
        self._fill_in_parties(conn, rows, confidential)
        # Below SQLAlchemy's per-row handling (projections/bulk.py): the same stored values, for less CPU.
        insert_rows(conn, self._events, _COLUMNS, [tuple(row[c] for c in _COLUMNS) for row in rows])

    def _fill_in_parties(self, conn: Connection, rows: list[dict[str, Any]], confidential: frozenset[str]) -> None:
        """A confidential item's later events take its Party from its first: in this batch, or already a row."""
        parties = {r["item_id"]: r["party"] for r in rows if r["kind"] in confidential and r["version"] == 1}
        missing = {r["item_id"] for r in rows if r["kind"] in confidential and r["item_id"] not in parties}
        if missing:
            parties.update(conn.execute(_first_parties(self._events), {"ids": list(missing)}).all())
        for row in rows:
            if row["kind"] in confidential:
                row["party"] = parties.get(row["item_id"])
