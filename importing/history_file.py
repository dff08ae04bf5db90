"""Reading a history file into lines, each checked for its shape alone (the importer checks the rest).

JSON Lines, one object a line:
    {"ref", "collection", "action", "actor", "occurred_at", "values", "reason"}
blank lines and lines starting with '#' ignored. CSV, for the common case of one row per item: a header row
naming the fields plus `ref`, `actor`, `occurred_at` (and optionally `collection`, `action`, `reason`); each
row is its item's creating action.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Mapping

from domain.workflow import Workflow

KEYS = ("ref", "collection", "action", "actor", "occurred_at", "values", "reason")
REQUIRED = ("ref", "collection", "action", "actor", "occurred_at")
CSV_COLUMNS = frozenset({"ref", "collection", "action", "actor", "occurred_at", "reason"})


@dataclass(frozen=True)
class RawLine:
    number: int
    ref: str
    collection: str
    action: str
    actor: str
    occurred_at: datetime
    values: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class BadLine:
    """A line refused for its shape; `ref` when it could still be read (then its whole item is refused)."""

    number: int
    reason: str
    ref: str | None = None


def read_json_lines(text: str, workflows: Mapping[str, Workflow]) -> Iterator[RawLine | BadLine]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as error:
            yield BadLine(number, f"not a JSON object: {error}")
            continue
        if not isinstance(record, dict):
            yield BadLine(number, "not a JSON object")
            continue
        yield checked(number, record, workflows)


def read_csv(text: str, workflows: Mapping[str, Workflow], collection: str | None) -> Iterator[RawLine | BadLine]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return
    for row in reader:
        number = reader.line_num
        if None in row:
            yield BadLine(number, f"{len(row[None])} cell(s) more than the header names", row.get("ref") or None)
            continue
        cells = {k.strip(): v for k, v in row.items() if v is not None and v.strip() != ""}
        kind = cells.get("collection") or collection
        workflow = workflows.get(kind) if kind else None
        record = {**{k: cells.get(k) for k in CSV_COLUMNS}, "collection": kind,
                  "action": cells.get("action") or (workflow.creating_action.name if workflow else None),
                  "values": {k: v for k, v in cells.items() if k not in CSV_COLUMNS}}
        yield checked(number, record, workflows)


def checked(number: int, record: Mapping[str, Any], workflows: Mapping[str, Workflow]) -> RawLine | BadLine:
    """The line if its keys, collection, action and time read right; else why not."""
    ref = record.get("ref") if isinstance(record.get("ref"), str) and record.get("ref").strip() else None
    unknown = sorted(set(record) - set(KEYS))
    if unknown:
        return BadLine(number, f"unknown key {unknown[0]!r}; a line has: {', '.join(KEYS)}", ref)
    missing = [k for k in REQUIRED if not isinstance(record.get(k), str) or not record[k].strip()]
    if missing:
        return BadLine(number, f"{missing[0]} is missing (a non-empty string is needed)", ref)
    workflow = workflows.get(record["collection"])
    if workflow is None:
        return BadLine(number, f"unknown collection {record['collection']!r}; one of: {', '.join(workflows)}", ref)
    if record["action"] not in workflow.by_name:
        return BadLine(number, f"{record['collection']} have no action {record['action']!r}; actions: "
                               f"{', '.join(workflow.by_name)}", ref)
    values = record.get("values") or {}
    if not isinstance(values, dict):
        return BadLine(number, "values must be a JSON object", ref)
    reason = record.get("reason")
    if reason is not None and not isinstance(reason, str):
        return BadLine(number, "reason must be text or null", ref)
    try:
        occurred_at = datetime.fromisoformat(record["occurred_at"].strip().replace("Z", "+00:00"))
    except ValueError:
        return BadLine(number, f"occurred_at {record['occurred_at']!r} is not an ISO 8601 date and time", ref)
    if occurred_at.tzinfo is None:
        return BadLine(number, f"occurred_at {record['occurred_at']!r} has no time zone "
                               "(e.g. 2015-05-05T10:00:00+02:00 or ...Z)", ref)
    return RawLine(number, ref, record["collection"], record["action"], record["actor"].strip(), occurred_at,
                   dict(values), reason)
