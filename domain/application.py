"""The application service: one `eventsourcing` Application over every aggregate.

One application means one global, ordered notification log, which projections and
the audit chain follow. Its public methods are use-case verbs that load, act and
save; library errors become the project's own errors here, and nowhere else.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Mapping
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import DecimalAsStr, IntegrityError, JSONTranscoder, Transcoding
from eventsourcing.utils import get_topic

from domain.actor import Actor
from domain.attachment import Attachment
from domain.calendar import BusinessCalendar
from domain.calendar_admin import CalendarAdministration
from domain.commenting import Commenting
from domain.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from domain.history_import import HistoryImport
from domain.idempotency import IdempotentOutcome, IdempotencyRecord
from domain.item import WorkflowItem
from domain.personal_data import PersonalDataInTheClear, PersonalKeys
from domain.reading import ItemReading
from domain.registry import WORKFLOW_ITEMS
from domain.reminders import DEFAULT_TIME, ReminderClock
from domain.reminding import Reminding
from domain.stored_json import OrjsonStoredJSON
from domain.user import User
from domain.user_admin import PasswordHasher, UserAdministration
from domain.workflow import Link, Workflow

# Collection -> class and collection -> workflow, as the registry holds them when asked (live views).
AGGREGATES: Mapping[str, type[WorkflowItem]] = WORKFLOW_ITEMS.collections
WORKFLOWS: Mapping[str, Workflow] = WORKFLOW_ITEMS.workflows

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SecretariatApplication(ItemReading, Reminding, Commenting, UserAdministration, CalendarAdministration,
                             HistoryImport, OrjsonStoredJSON, Application[UUID]):
    # The name fixes table names and topics for good: never change it.
    name = "secretariat"
    aggregates = AGGREGATES
    # Each workflow's interval is read in __init__ (see there); snapshotting itself is on for all.
    is_snapshotting_enabled = True
    # Loads come from a per-process cache, fast-forwarded with one query for newer events, so
    # a load is one SELECT rather than a snapshot lookup plus a replay. Other processes' writes
    # are still seen (the fast-forward), and a stale copy still loses on the version at save.
    env = {"AGGREGATE_CACHE_MAXSIZE": "10000"}

    def __init__(self, env: Mapping[str, str] | None = None, *, hasher: PasswordHasher, clock: Clock = utc_now,
                 calendar: BusinessCalendar = BusinessCalendar(), tz: ZoneInfo = ZoneInfo("Europe/Ljubljana"),
                 reminder_time: time = DEFAULT_TIME, personal_keys: PersonalKeys | None = None,
                 personal_data: Transcoding | None = None):
        # Personal data's transcoding (personal_data/cipher.py over `personal_keys`): needed by
        # register_transcodings, which the library calls from its own __init__.
        self.personal_keys = personal_keys
        self._personal_data = personal_data
        # Read when the application is built, so that every workflow registered by then is snapshotted.
        self.snapshotting_intervals = {**{cls: cls.snapshotting_interval for cls in WORKFLOW_ITEMS}, User: 50}
        super().__init__(env)
        self.hasher = hasher
        self.clock = clock
        self.calendar = calendar
        self.tz = tz
        self.reminder_clock = ReminderClock(tz, reminder_time)
        # Called with the log position of each save's last event (e.g. to wake the projections).
        self.on_recorded: list[Callable[[int], None]] = []

    def _notify(self, recordings: list) -> None:
        if recordings and self.on_recorded:
            position = max(r.notification.id for r in recordings)
            for listener in self.on_recorded:
                listener(position)

    def close(self) -> None:
        super().close()
        if self.personal_keys is not None:
            self.personal_keys.close()

    # The stored format: the library's JSON with these transcodings, byte for byte (the audit chain hashes it),
    # written and read by orjson (OrjsonStoredJSON, domain/stored_json.py).
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(DecimalAsStr())
        # Encrypting when given one; always able to read what an application built without keys wrote.
        transcoder.register(PersonalDataInTheClear())  # type: ignore[arg-type]
        if self._personal_data is not None:
            transcoder.register(self._personal_data)

    # -- workflow items ----------------------------------------------------

    def create(self, collection: str, actor: Actor, values: Mapping[str, Any], *, item_id: UUID | None = None,
               reason: str | None = None, idempotency_key: str | None = None,
               fingerprint: str = "", occurred_at: datetime | None = None) -> IdempotentOutcome:
        """Create an item of the collection by its workflow's creating action, telling the items it links to.
        `occurred_at`: when it happened, for an import of past records (see domain/effective_time.py)."""
        cls = self.aggregates[collection]
        replay = self._replay(actor, idempotency_key, fingerprint)
        if replay:
            return replay
        now = self.clock()
        # The calendar costs a query for newer closures: asked for only by a workflow that derives something.
        calendar = self.business_calendar() if cls.workflow.creating_action.name in cls.derives_on else None
        item = cls.start_new(actor, values, now=now, reason=reason, item_id=item_id or cls.id_for_new(values),
                             today=(occurred_at or now).astimezone(self.tz).date(), calendar=calendar,
                             occurred_at=occurred_at)
        self._check_references(item, values)
        related = []
        for link, parent_id in _links_of(item):
            parent = self._linked(link, parent_id)
            parent.child_created(item, link, actor=actor, now=now)
            related.append(parent)
        return self._save_outcome(item, related, actor, idempotency_key, fingerprint, status=201)

    # The domain's own words for the three first workflows, kept for the callers that script them
    # (the demo's story, the benchmarks, tests); each is `create` and nothing more.
    def record_mandate(self, actor: Actor, values: Mapping[str, Any], **kw: Any) -> IdempotentOutcome:
        """Record a decision of the Committee of Ministers as a mandate."""
        return self.create("mandates", actor, values, **kw)

    def create_task(self, actor: Actor, values: Mapping[str, Any], **kw: Any) -> IdempotentOutcome:
        """Create a task, linking it to its mandate if it names one."""
        return self.create("tasks", actor, values, **kw)

    def submit_support_request(self, actor: Actor, values: Mapping[str, Any], **kw: Any) -> IdempotentOutcome:
        """Submit a Party's support request; its decision is due in 10 working days."""
        return self.create("support-requests", actor, values, **kw)

    def act(self, collection: str, item_id: UUID | str, action: str, actor: Actor, values: Mapping[str, Any], *,
            reason: str | None = None, expected_version: int | None = None, idempotency_key: str | None = None,
            fingerprint: str = "", occurred_at: datetime | None = None) -> IdempotentOutcome:
        """Take an action on an item: load it, act, save it (with the items it links to, when it closes).
        `occurred_at`: when it happened, for an import of past records (see domain/effective_time.py)."""
        replay = self._replay(actor, idempotency_key, fingerprint)
        if replay:
            return replay
        item = self.visible_item(collection, item_id, actor)
        if expected_version is not None and expected_version != item.version:
            raise PreconditionFailed(f"the item is at version {item.version}, not {expected_version}; "
                                     "reload it and decide again")
        was_closed = item.is_closed
        derived = (item.derived_on_action(action, self.business_calendar(), item.view(), values)
                   if action in item.derives_on else None)
        now = self.clock()
        item.act(action, actor, values, now=now, reason=reason, derived=derived, occurred_at=occurred_at)
        self._check_references(item, values)
        related = []
        if item.is_closed and not was_closed:
            for link, parent_id in _links_of(item):
                parent = self._load(self.aggregates[link.collection], parent_id)
                parent.child_closed(item, link, actor=actor, now=now)
                related.append(parent)
        return self._save_outcome(item, related, actor, idempotency_key, fingerprint, status=200)

    def attach(self, collection: str, item_id: UUID | str, actor: Actor, attachment: Attachment, *,
               keep_bytes: Callable[[], None]) -> IdempotentOutcome:
        """Attach a file to an item: check, have `keep_bytes` store the file, then save the event (201);
        a file with the same digest attached already answers the item as it is (200), recording nothing.
        Its bytes are kept again all the same, so sending a file again repairs a stored copy damaged since."""
        item = self.visible_item(collection, item_id, actor)
        if not item.attach(attachment, actor, now=self.clock()):
            keep_bytes()  # the same digest: the same bytes, written over a copy that may have been damaged
            return IdempotentOutcome(item, 200, replayed=True)
        keep_bytes()  # before the event is saved: an event whose bytes are not kept must never exist
        return self._save_outcome(item, [], actor, None, "", status=201)

    def _save_outcome(self, item: WorkflowItem, related: list[WorkflowItem], actor: Actor, key: str | None,
                      fingerprint: str, *, status: int) -> IdempotentOutcome:
        record = None
        if key:
            record = IdempotencyRecord.start(actor.username, key, fingerprint, item_id=item.id,
                                             version=item.version, status=status, now=self.clock())
        try:
            recordings = self.save(item, *related, record)
        except IntegrityError:
            replay = self._replay(actor, key, fingerprint)
            if replay:  # the same request, sent twice at once: the first one's answer stands
                return replay
            if status == 201 and type(item).id_for_new(item.fields) == item.id:
                raise Conflict(type(item).duplicate_message(item.fields)) from None
            raise Conflict("the item was changed by someone else at the same time; reload it and try again") from None
        self._cache_saved(item, *related)
        return IdempotentOutcome(item, status, replayed=False,
                                 position=max(r.notification.id for r in recordings))

    def _cache_saved(self, *aggregates: WorkflowItem) -> None:
        """A copy of each aggregate just saved into the repository's cache (the library caches only what it
        loads), so that the next command on it loads with one fast-forward query that finds nothing new rather
        than a snapshot query and a replay. A copy: the caller keeps the saved aggregate."""
        cache = self.repository.cache
        if cache is not None:
            for aggregate in aggregates:
                cache.put(aggregate.id, deepcopy(aggregate))

    def _replay(self, actor: Actor, key: str | None, fingerprint: str) -> IdempotentOutcome | None:
        """The first answer to a request sent again with the same idempotency key."""
        if not key:
            return None
        try:
            record: IdempotencyRecord = self.repository.get(IdempotencyRecord.id_for(actor.username, key))
        except AggregateNotFoundError:
            return None
        record.refuse_unless_same(fingerprint)
        item = self.repository.get(record.item_id, version=record.item_version)
        if not item.may_be_read_by(actor):  # roles may have changed since the first answer
            raise Forbidden("you may no longer read the item this key answered with")
        return IdempotentOutcome(item, record.status, replayed=True)

    # -- reading items: see domain/reading.py ----------------------------------

    def _ids_created_by(self, created: type) -> list[UUID]:
        """Ids of the aggregates whose first event is of this class, oldest first, read from the log."""
        head = self.recorder.max_notification_id() or 0
        ids: list[UUID] = []
        position = 1
        while position <= head:
            batch = self.recorder.select_notifications(position, 1000, topics=[get_topic(created)])
            if not batch:
                break
            ids.extend(n.originator_id for n in batch)
            position = batch[-1].id + 1
        return ids

    def _load(self, cls: type, item_id: UUID | str, *, to_change: bool = True) -> Any:
        """The aggregate as it is now, whoever asks (what callers may read is `visible_item`'s to decide).
        `to_change=False`: only to look at, so the cached aggregate itself, not a copy (never change it)."""
        uuid = self._uuid(cls, item_id)
        try:
            item = self.repository.get(uuid, deepcopy_from_cache=to_change)
        except AggregateNotFoundError:
            raise NotFound(f"no {_title(cls)} with id {item_id}") from None
        if not isinstance(item, cls):
            raise NotFound(f"no {_title(cls)} with id {item_id}")
        return item

    @staticmethod
    def _uuid(cls: type, item_id: UUID | str) -> UUID:
        try:
            return item_id if isinstance(item_id, UUID) else UUID(str(item_id))
        except ValueError:
            raise NotFound(f"no {_title(cls)} with id {item_id}") from None

    def _check_references(self, item: WorkflowItem, values: Mapping[str, Any]) -> None:
        """Fields naming users (a task's assignee) name someone who can sign in."""
        for name in type(item).user_fields:
            if values.get(name) and not self._is_user(values[name]):
                raise ValidationFailed(name, f"{name} {values[name]!r} is not a user")

    def _is_user(self, username: str) -> bool:
        """Whether a user of that name was ever registered. A stored user never goes away (erasing one keeps
        the aggregate), so one in this process's cache needs no query; otherwise it is loaded (and cached)."""
        user_id = User.id_for(username)
        if self.repository.cache is not None:
            try:
                return isinstance(self.repository.cache.get(user_id), User)
            except KeyError:
                pass
        try:
            self._load(User, user_id, to_change=False)
        except NotFound:
            return False
        return True

    def _linked(self, link: Link, item_id: str) -> WorkflowItem:
        """The item a new item's link names; it must exist (a 422 on the field otherwise)."""
        cls = self.aggregates[link.collection]
        try:
            return self._load(cls, item_id)
        except NotFound:
            raise ValidationFailed(link.field, f"{link.field} {item_id} names no existing "
                                               f"{cls.workflow.title.lower()}") from None


def _links_of(item: WorkflowItem) -> list[tuple[Link, str]]:
    """The item's links that name an item, with the id each names."""
    return [(link, item.fields[link.field]) for link in type(item).links if item.fields.get(link.field)]


def _title(cls: type) -> str:
    workflow = getattr(cls, "workflow", None)
    return workflow.title.lower() if workflow else cls.__name__.lower()
