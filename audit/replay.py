"""`secretariat audit replay ID`: an item's history as a timeline people read."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.text import Text

from domain.actor import Actor
from domain.application import AGGREGATES, SecretariatApplication
from domain.errors import NotFound


def find_history(service: SecretariatApplication, item_id: str,
                 actor: Actor) -> tuple[str, list[dict[str, Any]]] | None:
    """(collection, history) of the item with this id, whatever its collection; None if there is none."""
    for collection in AGGREGATES:
        try:
            return collection, service.history(collection, item_id, actor)
        except NotFound:
            continue
    return None


def print_timeline(console: Console, collection: str, item_id: str, history: list[dict[str, Any]],
                   tz: ZoneInfo) -> None:
    """One entry per event, oldest first; text from the events is printed as text, never as markup."""
    title = AGGREGATES[collection].workflow.title
    console.print(Text.assemble((f"{title} {item_id}", "bold"), f"  ({collection}, {len(history)} events, "
                                f"times in {tz.key})"))
    for entry in history:
        before = entry["state_before"] or "∅"
        line = Text.assemble(
            (f"v{entry['version']:<3}", "bold"), " ", (f"{entry['at'].astimezone(tz):%Y-%m-%d %H:%M:%S %Z}", "cyan"),
            "  ", (entry["actor"] or "?", "green"), "  ", (entry["type"], "bold magenta"), "  ",
            (f"{before} → {entry['state_after']}", "yellow"))
        console.print(line)
        if entry["reason"]:
            console.print(Text.assemble("     reason: ", (entry["reason"], "italic")))
        if entry["data"]:
            console.print(Text("     data: " + json.dumps(entry["data"], default=_plain, ensure_ascii=False,
                                                        sort_keys=True)))


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)
