"""Reading the global audit log (audit.log's view): its filters, checked, and a page of it in a reader's scope.

`since` and `until` are instants of recording (`at`), as the log is ordered by recording; each entry also
gives `occurred_at`, when what it records happened.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Transcoder
from sqlalchemy import Connection, Engine, and_, or_, select

from audit.access import AuditLogScope, audit_log_scope
from audit.log import audit_events
from domain.actor import Actor
from domain.closures import Closures
from domain.errors import ValidationFailed
from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from domain.user import User
from domain.workflow import refuse_nul
from projections.database import as_utc

MAX_LIMIT = 1000


@dataclass(frozen=True)
class AuditFilter:
    """The log's filters. `type` with a dot (`Task.Started`) is exact; without one (`Started`) it matches that
    event of any kind. `since` is inclusive and `until` exclusive; both need an offset. `after` is the last
    position already seen."""

    actor: str | None = None
    item_id: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    after: int = 0


def audit_filter(*, actor_filter: str | None = None, item_id: str | None = None, type: str | None = None,
                 since: datetime | None = None, until: datetime | None = None, limit: int = 100,
                 after: int = 0) -> AuditFilter:
    """The filters, checked: ValidationFailed (422) names the first one that is wrong."""
    refuse_nul("actor", actor_filter or "")
    if item_id is not None:
        try:
            item_id = str(UUID(item_id))
        except ValueError:
            raise ValidationFailed("item_id", f"item_id {item_id!r} is not an id (a UUID)") from None
    if type is not None and type not in known_types() and type not in {t.split(".")[-1] for t in known_types()}:
        raise ValidationFailed("type", f"no event type {type!r}; give one as `history` shows it (`Task.Started`) "
                                       "or its last part (`Started`) for that event of any kind")
    for name, instant in (("since", since), ("until", until)):
        if instant is not None and instant.tzinfo is None:
            raise ValidationFailed(name, f"{name} needs a UTC offset, e.g. 2026-05-05T12:00:00+02:00")
    if since is not None and until is not None and since > until:
        raise ValidationFailed("until", "until is before since")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed("limit", f"limit must lie between 1 and {MAX_LIMIT}")
    if after < 0:
        raise ValidationFailed("after", "after is a position in the log: 0 or more")
    return AuditFilter(actor_filter, item_id, type, since, until, limit, after)


class ReadsViews(Protocol):
    """Where the log is read from: the read models' reader engine and the store's transcoder."""

    engine: Engine
    transcoder: Transcoder


def log_page(views: ReadsViews, actor: Actor, *, actor_filter: str | None = None, item_id: str | None = None,
                   type: str | None = None, since: datetime | None = None, until: datetime | None = None,
                   limit: int = 100, after: int = 0) -> dict[str, Any]:
    """A page of the global audit log, oldest first, for auditors and heads: the filters checked (422), the
    reader's scope applied (403 without an audit-log role)."""
    scope = audit_log_scope(actor)
    wanted = audit_filter(actor_filter=actor_filter, item_id=item_id, type=type, since=since, until=until,
                          limit=limit, after=after)
    with views.engine.connect() as conn:
        return read_audit_events(conn, views.transcoder, scope, wanted)


def read_audit_events(conn: Connection, transcoder: Transcoder, scope: AuditLogScope,
                      wanted: AuditFilter) -> dict[str, Any]:
    """A page of the log, oldest first: `{"events": [...], "next": position to pass as `after`, or None}`."""
    table = audit_events
    where = [table.c.position > wanted.after]
    if wanted.actor is not None:
        where.append(table.c.actor == wanted.actor)
    if wanted.item_id is not None:
        where.append(table.c.item_id == wanted.item_id)
    if wanted.type is not None:
        where.append((table.c.type if "." in wanted.type else table.c.name) == wanted.type)
    if wanted.since is not None:
        where.append(table.c.at >= _utc(wanted.since))
    if wanted.until is not None:
        where.append(table.c.at < _utc(wanted.until))
    for kind, confidential in scope.confidential.items():
        if confidential is None:
            where.append(table.c.kind != kind)
        elif confidential:
            where.append(or_(table.c.kind != kind,
                             and_(*(table.c[column] == value for column, value in confidential.items()))))
    rows = conn.execute(select(table).where(*where).order_by(table.c.position).limit(wanted.limit + 1)).all()
    more = len(rows) > wanted.limit
    rows = rows[:wanted.limit]
    return {"events": [_document(row, transcoder) for row in rows],
            "next": rows[-1].position if more else None}


def _document(row: Any, transcoder: Transcoder) -> dict[str, Any]:
    return {"position": row.position, "kind": row.kind, "item_id": row.item_id, "collection": row.collection,
            "version": row.version, "type": row.type, "at": as_utc(row.at),
            "occurred_at": as_utc(row.occurred_at), "actor": row.actor,
            "reason": row.reason, "data": transcoder.decode(row.data.encode()), "party": row.party}


def _utc(instant: datetime) -> datetime:
    # SQLite keeps the wall time it is given, and every stored instant is UTC: compare in UTC.
    return instant.astimezone(timezone.utc)


def known_types() -> frozenset[str]:
    """The qualnames of every event class the log can hold, for checking a `type` filter."""
    return _known_types(tuple(WORKFLOW_ITEMS))


@functools.lru_cache(maxsize=8)
def _known_types(classes: tuple[type[WorkflowItem], ...]) -> frozenset[str]:
    found = set()
    for owner in (*classes, User, Closures):
        for attribute in dir(owner):
            value = getattr(owner, attribute)
            if (isinstance(value, type) and issubclass(value, Aggregate.Event) and value.__name__ != "Event"
                    and value.__qualname__.startswith(owner.__name__ + ".")):
                found.add(value.__qualname__)
    return frozenset(found)
