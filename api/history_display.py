"""How an item's history reads to a person: what happened in words, states as labels, items by their titles.

Events keep ids (a mandate's `TaskLinked` names its task by id, a reminder names who it is addressed to as
`user:sara`); the page shows each named item by its title and real state, as far as the reader may read it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from api.page_display import ItemTitles, in_words, label_for, linked_fields, local_time, shown_value, state_kind
from domain.registry import WORKFLOW_ITEMS
from domain.reminders import MENTION
from domain.workflow import Workflow

# Bookkeeping a person need not read: a reminder's own id (its rung and deadline say which it is), the
# instant it fell due (the event's own time says it), a file's digest (the audit pages show it).
HIDDEN = frozenset({"reminder_id", "instant", "sha256", "comment_id"})
# A mention is kept as a reminder (so the inbox and e-mail carry it); its history entry says only who was told.
MENTION_SHOWN = frozenset({"addressed_to"})
STATE_VALUES = frozenset({"outcome"})  # data keys whose value is a state of the item named beside it
DEADLINE_VALUES = frozenset({"deadline"})
WORDS = re.compile(r"(?<=[a-z])(?=[A-Z])")


def event_label(event_type: str) -> str:
    """`SupportRequest.DuplicationCheckRecorded` -> "Duplication check recorded"."""
    return WORDS.sub(" ", event_type.rsplit(".", 1)[-1]).capitalize()


def item_fields() -> dict[str, str]:
    """Data keys naming an item -> its collection: the workflows' link fields and `<name>_id` (`task_id`)."""
    return {**{f"{w.name}_id": c for c, w in WORKFLOW_ITEMS.workflows.items()}, **linked_fields()}


def addressee(name: str) -> str:
    kind, _, who = str(name).partition(":")
    return {"user": who, "role": f"the {in_words(who)} role"}.get(kind, in_words(name))


def history_rows(titles: ItemTitles, workflow: Workflow, events: Iterable[Mapping[str, Any]],
                 tz: ZoneInfo) -> list[dict[str, Any]]:
    return [{**event, "label": "Mentioned in a comment" if _is_mention(event) else event_label(event["type"]),
             "before": label_for(event["state_before"]) if event["state_before"] else "new",
             "after": label_for(event["state_after"]),
             "after_kind": state_kind(workflow, event["state_after"]),
             "changed": event["state_before"] != event["state_after"],
             # An import of past records: when it happened, and (shown beside it) when it was recorded.
             "recorded_apart": event["occurred_at"] != event["at"],
             "rows": data_rows(titles, _shown_data(event), tz)} for event in events]


def _is_mention(event: Mapping[str, Any]) -> bool:
    return (event["data"] or {}).get("deadline") == MENTION


def _shown_data(event: Mapping[str, Any]) -> Mapping[str, Any]:
    data = event["data"] or {}
    return {k: v for k, v in data.items() if k in MENTION_SHOWN} if _is_mention(event) else data


def data_rows(titles: ItemTitles, data: Mapping[str, Any], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The event's data as (label, text or links) rows, each item it names by title."""
    named = item_fields()
    rows = []
    if isinstance(data.get("collection"), str) and data.get("id") and data["collection"] in WORKFLOW_ITEMS.workflows:
        rows.append({"label": "Made", "links": [titles.link(data["collection"], data["id"])]})
    for key, value in data.items():
        if key in HIDDEN or (rows and key in ("collection", "id")) or value in (None, "", [], {}):
            continue
        row = {"label": label_for(key), "text": "", "links": None}
        if key in named and isinstance(value, (str, list, dict)):
            row["label"] = label_for(key) if key in linked_fields() else WORKFLOW_ITEMS.workflows[named[key]].title
            ids = [value] if isinstance(value, str) else list(value)
            row["links"] = [titles.link(named[key], i) for i in ids]
        elif key == "addressed_to":
            row["text"] = ", ".join(addressee(a) for a in (value if isinstance(value, list) else [value]))
        elif key in STATE_VALUES or key in DEADLINE_VALUES or key == "rung":
            row["text"] = label_for(str(value))
        elif isinstance(value, datetime):
            row["text"] = local_time(value, tz)
        else:
            row["text"] = shown_value(in_words(value) if _is_code(value) else value)
        rows.append(row)
    return rows


def _is_code(value: Any) -> bool:
    """A choice written in snake_case (`officer_exchange`), not free text, an address or a name with a dot."""
    return isinstance(value, str) and "_" in value and not any(c in value for c in " /@.")
