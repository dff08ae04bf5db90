"""From a history file's text to its report: shape checks, actors, `$ref`s and ids here; the workflow checks
and the all-or-nothing saving of each item in the application (domain/history_import.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Protocol
from uuid import UUID, uuid5

from domain.actor import Actor
from domain.errors import NotFound
from domain.history_import import HistoryLine, HistoryOutcome, Progress
from domain.item import WorkflowItem
from importing.history_file import BadLine, RawLine, read_csv, read_json_lines
from importing.values import BadValue, typed_values

# Items without an id of their own (see `WorkflowItem.id_for_new`) take one from this namespace and their ref,
# so that importing the same file again names the same items (and adds nothing).
IMPORT_NAMESPACE = UUID("6f1c2a53-8d0e-5b7a-9a43-2c1e5d0b7f11")
FORMATS = ("jsonl", "csv")


class HistoryImporter(Protocol):
    """What the importer needs of the application service."""

    aggregates: Mapping[str, type[WorkflowItem]]

    def user(self, username: str) -> Any: ...

    def import_history(self, lines: list[HistoryLine], *, dry_run: bool = ...,
                       refused: Mapping[str, tuple[int, str]] | None = ...,
                       progress: Progress | None = ...) -> HistoryOutcome: ...


@dataclass(frozen=True)
class Refusal:
    line: int
    reason: str
    ref: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "ref": self.ref, "reason": self.reason}


@dataclass
class ImportReport:
    lines: int = 0  # lines read (blank lines and comments aside)
    items_imported: int = 0
    events: int = 0
    already_present: list[str] = field(default_factory=list)  # refs of items already in the store
    refusals: list[Refusal] = field(default_factory=list)  # in line order
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.refusals

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": self.dry_run, "lines": self.lines, "items_imported": self.items_imported,
                "events": self.events, "already_present": self.already_present,
                "refused": len(self.refusals), "refusals": [r.as_dict() for r in self.refusals]}

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        return (f"{self.lines} lines: {verb} {self.items_imported} items ({self.events} events); "
                f"{len(self.already_present)} already imported (left unchanged); {len(self.refusals)} refused")


def import_history_text(app: HistoryImporter, text: str, *, format: str = "jsonl", collection: str | None = None,
                        dry_run: bool = False, progress: Progress | None = None) -> ImportReport:
    """Import a history (JSON Lines, or CSV with one row per item) and report what came in and what was refused."""
    started = time.perf_counter()
    workflows = {name: cls.workflow for name, cls in app.aggregates.items()}
    raw = list(read_csv(text, workflows, collection) if format == "csv" else read_json_lines(text, workflows))
    lines, refused, loose = _history_lines(app, raw)
    outcome = app.import_history(lines, dry_run=dry_run, refused=refused, progress=progress)
    refusals = loose + [Refusal(number, reason, ref) for ref, (number, reason) in outcome.refused.items()]
    return ImportReport(lines=len(raw), items_imported=len(outcome.imported), events=outcome.events,
                        already_present=list(outcome.present), refusals=sorted(refusals, key=lambda r: r.line),
                        dry_run=dry_run, seconds=time.perf_counter() - started)


def _history_lines(app: HistoryImporter, raw: Iterable[RawLine | BadLine]
                   ) -> tuple[list[HistoryLine], dict[str, tuple[int, str]], list[Refusal]]:
    """The lines to run, the items refused before running (ref -> line, why) and lines refused with no item."""
    lines: list[HistoryLine] = []
    refused: dict[str, tuple[int, str]] = {}
    loose: list[Refusal] = []
    items: dict[str, tuple[str, UUID]] = {}  # ref -> (collection, id), from its first line
    owners: dict[UUID, str] = {}  # id -> ref
    actors = _Actors(app)
    for line in raw:
        if line.ref in refused:
            continue  # its item is refused already: the first refusal is the one reported
        try:
            if isinstance(line, BadLine):
                raise _Refused(line.reason)
            lines.append(_history_line(app, line, items, owners, refused, actors))
        except _Refused as refusal:
            if line.ref is None:
                loose.append(Refusal(line.number, str(refusal)))
            else:
                refused[line.ref] = (line.number, str(refusal))
    return [line for line in lines if line.ref not in refused], refused, loose


def _history_line(app: HistoryImporter, line: RawLine, items: dict[str, tuple[str, UUID]], owners: dict[UUID, str],
                  refused: Mapping[str, tuple[int, str]], actors: "_Actors") -> HistoryLine:
    cls = app.aggregates[line.collection]
    known = items.get(line.ref)
    if known is None and line.action != cls.workflow.creating_action.name:
        raise _Refused(f"the first line of {line.ref!r} must create it ({cls.workflow.creating_action.name}), "
                       f"not {line.action}")
    if known is not None and known[0] != line.collection:
        raise _Refused(f"{line.ref!r} is one of the {known[0]}, not of the {line.collection}")
    names: set[str] = set()
    try:
        values = _resolved(line.values, items, refused, names)
    except RecursionError:
        raise _Refused("values are nested too deeply") from None
    try:
        values = typed_values(cls.workflow, values)
    except BadValue as error:
        raise _Refused(str(error)) from None
    if known is None:
        item_id = cls.id_for_new(values) or uuid5(IMPORT_NAMESPACE, line.ref)
        twin = owners.get(item_id)
        if twin is not None:  # e.g. two mandates with one reference: the store would keep only one
            raise _Refused(f"{line.ref!r} would be the same {cls.workflow.title.lower()} as {twin!r} "
                           f"({cls.duplicate_message(values)})")
        items[line.ref], owners[item_id] = (line.collection, item_id), line.ref
    else:
        item_id = known[1]
    return HistoryLine(line.number, line.ref, item_id, line.collection, line.action, actors(line.actor),
                       line.occurred_at, values, line.reason, frozenset(names))


def _resolved(value: Any, items: Mapping[str, tuple[str, UUID]], refused: Mapping[str, tuple[int, str]],
              names: set[str]) -> Any:
    """The value with each `{"$ref": REF}` replaced by the id of the item REF (named on an earlier line)."""
    if isinstance(value, dict) and set(value) == {"$ref"}:
        ref = value["$ref"]
        if ref in refused:
            raise _Refused(f"it names {ref!r}, which was refused (line {refused[ref][0]})")
        if ref not in items:
            raise _Refused(f"$ref {ref!r} names no item of an earlier line")
        names.add(ref)
        return str(items[ref][1])
    if isinstance(value, dict):
        return {k: _resolved(v, items, refused, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, items, refused, names) for v in value]
    return value


class _Refused(Exception):
    pass


class _Actors:
    """Actors by username, each looked up once; a user deactivated since is still who acted then."""

    def __init__(self, app: HistoryImporter) -> None:
        self.app, self.known = app, {}

    def __call__(self, username: str) -> Actor:
        if username not in self.known:
            try:
                self.known[username] = self.app.user(username).as_actor()
            except NotFound:
                self.known[username] = None
        if self.known[username] is None:
            raise _Refused(f"actor {username!r} is not a user")
        return self.known[username]
