"""The deliveries outbox: one row per reminder and channel, and what became of it.

`DeliveriesProjection` fills it from the log: for each `ReminderRaised`, one 'pending' row for
every channel the Secretariat knows ("email" and "webhook"), whatever this process's settings
configure, inserted in the projection runner's transaction with its tracking position, and unique
on (reminder, channel); so a reminder is queued exactly once per channel, whatever crashes or runs
twice, and no process (one started without SECRETARIAT_SMTP_URL, say) can move the shared position
past a reminder without queueing it. A worker claims only the rows of the channels it has; a row of
a channel that no worker has stays 'pending', in sight (GET /deliveries, /metrics), until one does.
A row that has waited more than a worker's `max_age` for its try (the channel was configured
later, or no worker ran) is 'expired' by that worker rather than sent late.

Unlike a view, the outbox holds what was done (sent, failed, retried), which the log does not
say: it is never rebuilt (a rebuild would send everything again), and when first set up it
starts at the head of the log, so reminders raised before deliveries were set up are not sent
(they stay in the inbox, GET /reminders).

Statuses: 'pending' (waiting for its first try, or for a worker with its channel), 'retrying'
(tried, waiting for the next try), 'delivered' (the receiver acknowledged it), 'failed' (every
try failed), 'no_recipients' (nobody it is addressed to has an e-mail address), 'expired' (not
tried: it waited too long). The last three are retried on request, by a head (or the command line).

Who reads a delivery: each row names its item's collection, and a reader sees the rows of the
collections whose items they read in full (`delivery_scope`, the one place that decides it).
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Sequence
from uuid import NAMESPACE_URL, uuid4, uuid5

from sqlalchemy import (BigInteger, Column, Connection, DateTime, Engine, Index, Integer, MetaData, String, Table,
                        Text, UniqueConstraint, func, or_, select, update)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.actor import Actor
from domain.registry import WORKFLOW_ITEMS
from domain.errors import Conflict, Forbidden, NotFound
from domain.item import WorkflowItem
from projections.database import as_utc
from projections.reminders import collection_of

log = logging.getLogger("secretariat.delivery")

metadata = MetaData()

deliveries = Table(
    "deliveries", metadata,
    Column("id", String(36), primary_key=True),  # derived from reminder and channel: the same on every try
    Column("reminder_id", String(36), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("collection", String(32), nullable=False),  # the item's: who may read the row (see delivery_scope)
    Column("position", BigInteger, nullable=False),  # the ReminderRaised event's, for newest first
    Column("reminder", Text, nullable=False),  # the reminder as channels see it, JSON
    Column("recipients", Text),  # JSON list of the addresses of the last try (e-mail)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("delivered_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_until", DateTime(timezone=True)),  # a worker's lease: nobody else sends it until then
    Column("claimed_by", String(36)),  # that worker's claim, so it only ever marks its own
    UniqueConstraint("reminder_id", "channel", name="uq_deliveries_reminder_channel"),
    # By channel first: a worker looks only at its channels' rows, past any backlog of a channel nobody has.
    Index("ix_deliveries_due", "channel", "status", "next_attempt_at"),
    Index("ix_deliveries_newest", "position"),
)

CHANNELS = ("email", "webhook")  # every channel there is (scheduler.channels), configured or not
STATUSES = ("pending", "retrying", "delivered", "failed", "no_recipients", "expired")
WAITING = ("pending", "retrying")
RETRYABLE = ("failed", "no_recipients", "expired")

# Who may see deliveries (each within delivery_scope's collections), and who may retry one.
# Not admin: an admin manages users and reads no item, and a delivery shows its item's title.
DELIVERY_READERS = ("head", "auditor")
DELIVERY_RETRIERS = ("head",)  # auditors read everything and change nothing


@dataclass(frozen=True)
class DeliveryScope:
    """The collections whose deliveries a caller sees and retries; None: all (the store's operator)."""

    collections: tuple[str, ...] | None


# The command line's: whoever runs `secretariat deliveries` holds the store's URL and runs its workers.
OPERATOR = DeliveryScope(None)


def delivery_scope(actor: Actor, *, retry: bool = False) -> DeliveryScope:
    """The deliveries `actor` may read (or, with `retry`, retry); Forbidden without a role for it.

    A delivery carries its reminder (the item's title, id and deadline), so a caller sees those of
    the collections whose every item they read (`read_scope` is `{}`). A partial scope (a Party
    liaison's own Party only) shows none: a delivery has no Party to filter by.
    """
    roles = DELIVERY_RETRIERS if retry else DELIVERY_READERS
    if not any(actor.has_role(role) for role in roles):
        raise Forbidden(f"{'retrying a delivery' if retry else 'reading deliveries'} needs one of: "
                        f"{', '.join(roles)}")
    return DeliveryScope(tuple(cls.workflow.collection for cls in WORKFLOW_ITEMS if cls.workflow.read_scope(actor) == {}))


def delivery_id(reminder_id: str, channel: str) -> str:
    return str(uuid5(NAMESPACE_URL, f"secretariat:delivery:{reminder_id}:{channel}"))


@functools.cache
def _queue(dialect: str) -> Any:
    """The insert that queues rows unless queued already (built once per dialect, not for every batch)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(deliveries).on_conflict_do_nothing()


class DeliveriesProjection:
    """Queues each reminder raised once for every channel, configured or not (see the module's text)."""

    name = "deliveries"
    # 2: a row for every channel, and the `collection` column. A store whose outbox is at 1 (never
    # released) fails its setup with the runner's "never rebuilt" error: drop the table and its
    # position (a view that records what was sent is migrated by hand, never rebuilt).
    version = 2
    # Read by ProjectionRunner: start at the head of the log when first set up, and never rebuild.
    rebuildable = False

    def __init__(self) -> None:
        self.channels = CHANNELS
        self.tables = (deliveries,)

    def beside(self, suffix: str) -> "DeliveriesProjection":
        raise TypeError("the deliveries outbox is never rebuilt: a rebuild would send every reminder again")

    def handle(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> None:
        rows = [self._row(position, event, channel) for position, event in batch
                if isinstance(event, WorkflowItem.ReminderRaised) for channel in self.channels]
        if rows:
            conn.execute(_queue(conn.dialect.name), rows)

    @staticmethod
    def _row(position: int, event: Any, channel: str) -> dict[str, Any]:
        data = event.data
        collection = collection_of(event)
        reminder = {"id": data["reminder_id"], "item_id": str(event.originator_id),
                    "collection": collection, "title": data["title"], "deadline": data["deadline"],
                    "due": data["due"], "rung": data["rung"], "instant": data["instant"],
                    "raised_at": event.timestamp, "addressed_to": list(data["addressed_to"])}
        if "comment_id" in data:  # a mention (domain/commenting.py): who wrote it tells the reader why it came
            reminder.update(comment_id=data["comment_id"], mentioned_by=event.actor)
        raised_at = _utc(event.timestamp)
        return {"id": delivery_id(data["reminder_id"], channel), "reminder_id": data["reminder_id"],
                "channel": channel, "collection": collection, "position": position, "reminder": json.dumps(reminder, default=_iso),
                "recipients": None, "status": "pending", "attempts": 0, "next_attempt_at": raised_at,
                "last_error": None, "delivered_at": None, "created_at": raised_at, "claimed_until": None,
                "claimed_by": None}


@dataclass(frozen=True)
class Claimed:
    """A row a worker holds the lease on."""

    id: str
    channel: str
    reminder: dict[str, Any]
    attempts: int
    token: str


class Outbox:
    """The outbox's reads and writes, for the worker, the API and the command line."""

    def __init__(self, engine: Engine, *, reader: Engine | None = None) -> None:
        self.engine = engine  # writes (on SQLite, a writer engine: it takes the lock when a transaction begins)
        self.reader = reader or engine

    # -- what people see --

    def list_deliveries(self, scope: DeliveryScope, *, status: str | None = None, channel: str | None = None,
                        limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Deliveries within `scope`, newest first, and how many match in all."""
        where = [*_within(scope),
                 *([deliveries.c.status == status] if status else []),
                 *([deliveries.c.channel == channel] if channel else [])]
        with self.reader.connect() as conn:
            total = conn.execute(select(func.count()).select_from(deliveries).where(*where)).scalar_one()
            rows = conn.execute(select(deliveries).where(*where)
                                .order_by(deliveries.c.position.desc(), deliveries.c.channel)
                                .limit(limit).offset(offset)).mappings().all()
        return [delivery_document(row) for row in rows], total

    def get(self, id: str, scope: DeliveryScope) -> dict[str, Any]:
        """One delivery; NotFound unless it exists within `scope` (one outside it does not exist for the caller)."""
        with self.reader.connect() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == id, *_within(scope))).mappings().first()
        if row is None:
            raise NotFound(f"no delivery with id {id}")
        return delivery_document(row)

    def counts(self) -> dict[tuple[str, str], int]:
        """Rows by (channel, status): the /metrics gauge."""
        with self.reader.connect() as conn:
            rows = conn.execute(select(deliveries.c.channel, deliveries.c.status, func.count())
                                .group_by(deliveries.c.channel, deliveries.c.status)).all()
        return {(channel, status): n for channel, status, n in rows}

    def retry(self, id: str, scope: DeliveryScope, *, now: datetime, by: str) -> dict[str, Any]:
        """Put a failed, recipient-less or expired delivery within `scope` back in the queue, due now, with a
        fresh round of attempts (and a fresh `max_age`: an expired one is sent however late)."""
        with self.engine.begin() as conn:
            moved = conn.execute(update(deliveries).where(deliveries.c.id == id, *_within(scope),
                                                          deliveries.c.status.in_(RETRYABLE))
                                 .values(status="pending", attempts=0, next_attempt_at=_utc(now),
                                         claimed_until=None, claimed_by=None)).rowcount
        if not moved:
            status = self.get(id, scope)["status"]  # raises NotFound for an unknown id, or one outside the scope
            raise Conflict(f"delivery {id} is {status}; only {', '.join(RETRYABLE)} deliveries are retried")
        log.info("delivery %s queued again by %s", id, by)
        return self.get(id, scope)

    # -- what the worker does --

    def due(self, channels: Iterable[str], now: datetime, limit: int) -> list[str]:
        """Ids of rows waiting for a try by `now` that no live lease holds, longest waiting first."""
        now = _utc(now)
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(deliveries.c.id)
                .where(deliveries.c.status.in_(WAITING), deliveries.c.channel.in_(list(channels)),
                       deliveries.c.next_attempt_at <= now, _unclaimed(now))
                .order_by(deliveries.c.next_attempt_at, deliveries.c.id).limit(limit)).scalars())

    def expire(self, channels: Iterable[str], now: datetime, max_age: timedelta) -> int:
        """Mark 'expired' the waiting rows of `channels` whose try has been due for more than `max_age`; how many.

        Such a row waited for a worker with its channel (configured only later) or for any worker
        to run: sent now, it would arrive late and out of order ("due tomorrow" days after), and the
        inbox holds it anyway. Leased rows are left alone, as `claim` would.
        """
        now = _utc(now)
        hours = max_age.total_seconds() / 3600
        with self.engine.begin() as conn:
            expired = conn.execute(
                update(deliveries)
                .where(deliveries.c.channel.in_(list(channels)), deliveries.c.status.in_(WAITING),
                       deliveries.c.next_attempt_at < now - max_age, _unclaimed(now))
                .values(status="expired", last_error=f"not sent: its try was due more than {hours:g} h before a "
                                                     f"worker with this channel looked (the channel was configured "
                                                     f"later, or no worker ran); retry it to send it anyway")
            ).rowcount
        if expired:
            log.warning("%d deliveries expired unsent: they waited more than %g h for a worker", expired, hours)
        return expired

    def claim(self, id: str, now: datetime, lease: timedelta) -> Claimed | None:
        """Take the lease on a row, unless another worker holds a live one (then None).

        The conditions are checked again by the UPDATE itself, as the row is now (a list of due ids
        may be stale): on PostgreSQL a second worker's UPDATE waits for the first's commit and then
        finds the lease taken, or the row settled; on SQLite writers queue.
        """
        now, token = _utc(now), str(uuid4())
        with self.engine.begin() as conn:
            taken = conn.execute(update(deliveries)
                                 .where(deliveries.c.id == id, deliveries.c.status.in_(WAITING),
                                        deliveries.c.next_attempt_at <= now, _unclaimed(now))
                                 .values(claimed_until=now + lease, claimed_by=token)).rowcount
            if not taken:
                return None
            row = conn.execute(select(deliveries.c.channel, deliveries.c.reminder, deliveries.c.attempts)
                               .where(deliveries.c.id == id)).one()
        return Claimed(id, row.channel, json.loads(row.reminder), row.attempts, token)

    def settle(self, claimed: Claimed, **values: Any) -> bool:
        """Record a try's outcome and release the lease; False if the lease was lost meanwhile."""
        values = {k: _utc(v) if isinstance(v, datetime) else v for k, v in values.items()}
        with self.engine.begin() as conn:
            return conn.execute(update(deliveries)
                                .where(deliveries.c.id == claimed.id, deliveries.c.claimed_by == claimed.token)
                                .values(**values, claimed_until=None, claimed_by=None)).rowcount == 1


def _within(scope: DeliveryScope) -> list[Any]:
    return [] if scope.collections is None else [deliveries.c.collection.in_(scope.collections)]


def _unclaimed(now: datetime):
    return or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now)


def delivery_document(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "reminder_id": row["reminder_id"], "channel": row["channel"], "status": row["status"],
            "attempts": row["attempts"], "next_attempt_at": as_utc(row["next_attempt_at"]),
            "last_error": row["last_error"], "delivered_at": as_utc(row["delivered_at"]),
            "created_at": as_utc(row["created_at"]),
            "recipients": json.loads(row["recipients"]) if row["recipients"] else [],
            "reminder": json.loads(row["reminder"])}


def _iso(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _utc(value: datetime) -> datetime:
    # SQLite keeps the wall time and drops the offset, so every instant goes in as UTC.
    return value.astimezone(timezone.utc)

