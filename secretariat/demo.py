"""Demo users, then the Secretariat's history from 2008 to the coming weeks, imported from a file. Safe to run twice.

The story is data: secretariat/demo_history.jsonl, shipped with the package, one event a line with the day it
happened (its header describes the format). Every item's id derives from its ref in the file (a mandate's from its
reference), so a second run finds each item and leaves it as it is.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from importlib.resources import files
from typing import Any, Iterable, Iterator
from uuid import UUID, uuid5

from rich.console import Console
from rich.progress import track

from domain.actor import Actor
from domain.application import SecretariatApplication
from domain.closures import CLOSURES_ID
from domain.errors import Conflict, NotFound

USERS = [  # username (= password), roles, party, e-mail
    ("admin", ["admin"], None),
    ("sara", ["secretariat"], None),
    ("hana", ["head"], None),
    ("erik", ["ewg"], None),
    ("alba", ["party"], "AL"),
    ("milan", ["party"], "RS"),
    ("audrey", ["auditor"], None),
]

# The Committee's decisions in the story, by the references its mandates carry.
ESTABLISHMENT = "CoM-2008-07-17/1"
HOST_MOU = "CoM-2010-05-21/1"
SUPPORT = "CoM-2015-05-05/1"

HISTORY = "demo_history.jsonl"
DEMO = Actor.system("demo", "admin")
END_OF_YEAR_CLOSURE = "End-of-year closure"
RELATIVE = "days_from_today"  # a date or instant written relative to the day the demo runs (see the file's header)


# The importer's namespace (importing/importer.py, IMPORT_NAMESPACE): an item without an id of its own takes
# uuid5(namespace, ref), so the demo's ids are the ones the importer gives. At merge, import it from there.
IMPORT_NAMESPACE = UUID("6f1c2a53-8d0e-5b7a-9a43-2c1e5d0b7f11")


def ref_id(ref: str) -> UUID:
    """The id of the item the history file names `ref` (unless its values give it one, as a mandate's reference)."""
    return uuid5(IMPORT_NAMESPACE, ref)


def demo_id(kind: str, key: str) -> UUID:
    """The id of the demo's `task`, `request` or `meeting` with this key: the file's ref is "<kind>:<key>"."""
    return ref_id(f"{kind}:{key}")


def history_lines() -> list[dict[str, Any]]:
    """The history file's events, in file order, as written (relative dates unresolved)."""
    text = files("secretariat").joinpath(HISTORY).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def story(collection: str) -> list[tuple[str, dict[str, Any]]]:
    """The (key, creating values) of the file's items of one collection, in file order: for tests that pick some."""
    return [(line["ref"].split(":", 1)[1], line["values"]) for line in _first_lines(history_lines())
            if line["collection"] == collection]


def seed(service: SecretariatApplication, console: Console | None = None) -> int:
    """Create what is missing of the demo; return how many records were created."""
    created = 0
    for username, roles, party in track(USERS, description="Demo users", console=console,
                                        disable=console is None):
        try:
            service.register_user(username, username, roles, party=party, email=f"{username}@pccsee.example",
                                  actor=DEMO)
            created += 1
        except Conflict:
            pass
    now = service.clock()
    year = now.astimezone(service.tz).year
    created += record_end_of_year_closure(service, year, year + 1)
    history = "\n".join(json.dumps(line) for line in resolve_relative(history_lines(), now=now, tz=service.tz))
    return created + _load_history(service, history)


def resolve_relative(lines: Iterable[dict[str, Any]], *, now: datetime, tz: Any) -> list[dict[str, Any]]:
    """The lines with every {"days_from_today": N} made absolute: a date value that many days from today, an
    occurred_at that day at its "at" local time, but never after `now` (nothing is recorded before it happens)."""
    today = now.astimezone(tz).date()

    def value(v: Any) -> Any:
        if isinstance(v, dict) and set(v) == {RELATIVE}:
            return (today + timedelta(days=v[RELATIVE])).isoformat()
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    def instant(v: Any) -> str:
        if not isinstance(v, dict):
            return v
        day = today + timedelta(days=v[RELATIVE])
        when = datetime.combine(day, time.fromisoformat(v.get("at", "00:00")), tzinfo=tz)
        return min(when, now).isoformat()

    return [dict(line, values=value(line.get("values") or {}), occurred_at=instant(line["occurred_at"]))
            for line in lines]


# Stands in for the importer (package `importing`, issue 13) until it is merged; then its body becomes
#     report = import_history_text(service, history)   # from importing; refusals: raise with report.refusals
#     return report.items_imported
# (checked against branch i13-import: the file imports whole, 35 items, and again adds none, with these ids).
def _load_history(service: SecretariatApplication, history: str) -> int:
    """Import a history (JSON Lines, relative dates resolved) in file order, as the importer does: the first line of
    a ref creates its item (at its past occurred_at), the next ones act on it. An item that exists already is
    skipped, all its lines. Returns how many items were created."""
    lines = [json.loads(line) for line in history.splitlines() if line.strip() and not line.startswith("#")]
    ids: dict[str, UUID] = {}
    skipped: set[str] = set()
    actors: dict[str, Actor] = {}
    auditor = service.user("audrey").as_actor()
    created = 0
    for line in lines:
        ref, collection = line["ref"], line["collection"]
        actor = actors.get(line["actor"]) or actors.setdefault(line["actor"], service.user(line["actor"]).as_actor())
        values = _typed(service, collection, _refs_resolved(line.get("values") or {}, ids))
        occurred_at = datetime.fromisoformat(line["occurred_at"])
        if ref in skipped:
            continue
        if ref not in ids:
            item_id = service.aggregates[collection].id_for_new(values) or ref_id(ref)
            ids[ref] = item_id
            if _exists(service, collection, item_id, auditor):
                skipped.add(ref)
                continue
            service.create(collection, actor, values, item_id=item_id, reason=line.get("reason"),
                           occurred_at=occurred_at)
            created += 1
        else:
            service.act(collection, ids[ref], line["action"], actor, values, reason=line.get("reason"),
                        occurred_at=occurred_at)
    return created


def _refs_resolved(values: dict[str, Any], ids: dict[str, UUID]) -> dict[str, Any]:
    return {k: str(ids[v["$ref"]]) if isinstance(v, dict) and "$ref" in v else v for k, v in values.items()}


def _typed(service: SecretariatApplication, collection: str, values: dict[str, Any]) -> dict[str, Any]:
    """JSON values as the workflow's fields take them: dates from ISO strings, amounts as Decimal."""
    fields = service.aggregates[collection].workflow.field_by_name
    typed = {}
    for name, v in values.items():
        kind = fields[name].type if name in fields else None
        if kind is date and isinstance(v, str):
            v = date.fromisoformat(v)
        elif kind is Decimal and isinstance(v, (int, float, str)) and not isinstance(v, bool):
            v = Decimal(str(v))
        typed[name] = v
    return typed


def _first_lines(lines: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    for line in lines:
        if line["ref"] not in seen:
            seen.add(line["ref"])
            yield line


def record_end_of_year_closure(service: SecretariatApplication, *years: int) -> int:
    """Close 24-31 December of each year, except days already off (so a second run closes none)."""
    # Nor a day someone has closed or reopened before: the demo never overrides a recorded decision.
    decided = {getattr(event, "day", None) for event in service.events.get(CLOSURES_ID)}
    closed = 0
    for year in years:
        for day in (date(year, 12, d) for d in range(24, 32)):
            if day not in decided and service.business_calendar().is_working_day(day):
                service.close_day(day, END_OF_YEAR_CLOSURE, actor=DEMO)
                closed += 1
    return closed


def _exists(service: SecretariatApplication, collection: str, item_id: UUID, reader: Actor) -> bool:
    try:
        service.get_item(collection, item_id, reader)
        return True
    except NotFound:
        return False
