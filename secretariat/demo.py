"""Demo users, then the Secretariat's history from 2008 to the coming weeks, imported from a file. Safe to run twice.

The story is data: secretariat/demo_history.jsonl, shipped with the package, one event a line with the day it
happened (its header describes the format). Every item's id derives from its ref in the file (a mandate's from its
reference), so a second run finds each item and leaves it as it is.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from importlib.resources import files
from typing import Any, Iterable, Iterator
from uuid import UUID, uuid5

from rich.console import Console
from rich.progress import track

from domain.actor import Actor
from importing.importer import IMPORT_NAMESPACE, import_history_text
from domain.application import SecretariatApplication
from domain.closures import CLOSURES_ID
from domain.errors import Conflict

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


def ref_id(ref: str) -> UUID:
    """The id the importer gives the item the history file names `ref` (unless its values give it one, as a
    mandate's reference)."""
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


def _load_history(service: SecretariatApplication, history: str) -> int:
    """Import the history (relative dates resolved) as `secretariat import` does; items present already are left as
    they are, so a second run adds nothing. Returns how many items were created."""
    report = import_history_text(service, history)
    if report.refusals:  # the shipped file imports whole into a fresh store: a refusal means the store is not fresh
        first = report.refusals[0]
        raise DemoRefused(f"the demo history was refused at line {first.line} ({first.ref}): {first.reason}; "
                          f"{len(report.refusals)} refusal(s). Demo data goes into a fresh store: move the "
                          f"database aside and run `secretariat demo` again")
    return report.items_imported


class DemoRefused(Exception):
    """The demo's history did not import whole (the store holds conflicting records)."""


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
