"""The report as a document outline: headings, paragraphs, tables and lists of plain text.

Markdown, Word and HTML each write this one outline, so the three carry the same headings,
the same words and the same figures; only the markup differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import Any, Union

TITLE = "Progress report of the Secretariat"
SUMMARY = "Summary"
MANDATES = "Mandates"
CHANGES = "Changes since the previous meeting"
NEW_MANDATES = "New mandates"
STATE_CHANGES = "State changes"
TASKS_DONE = "Tasks done"
OVERDUE = "Overdue on the meeting's first day"
CONCLUSIONS = "Conclusions of the previous meeting"
SUPPORT = "Support to Parties under the decision of 5 May 2015"
HEADINGS = (SUMMARY, MANDATES, CHANGES, NEW_MANDATES, STATE_CHANGES, TASKS_DONE, OVERDUE, CONCLUSIONS, SUPPORT)

# The summary's lines: (label, key in the report's figures).
FIGURES = (("Mandates in force", "mandates_in_force"), ("New mandates", "new_mandates"),
           ("State changes", "state_changes"), ("Tasks done", "tasks_done"),
           ("Deadlines overdue", "overdue"), ("Support requests", "support_requests"))
NONE = "None."


@dataclass(frozen=True)
class Heading:
    level: int  # 1 the title, 2 a section, 3 a part of one
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


Block = Union[Heading, Paragraph, Table, Bullets]


def outline(report: dict[str, Any], tz: tzinfo) -> list[Block]:
    """The report's blocks in reading order; instants are shown where the Secretariat is (`tz`)."""
    return [_printable_block(block) for block in _blocks(report, tz)]


# What XML 1.0 (a .docx) cannot hold, a typed title may: control characters, U+FFFE/U+FFFF, lone surrogates.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def printable(text: str) -> str:
    """The text with each character no format can carry replaced by U+FFFD, so every format shows the same."""
    return _UNPRINTABLE.sub("\ufffd", text)


def _printable_block(block: Block) -> Block:
    if isinstance(block, (Heading, Paragraph)):
        return replace(block, text=printable(block.text))
    if isinstance(block, Bullets):
        return Bullets(tuple(printable(item) for item in block.items))
    return Table(tuple(printable(h) for h in block.headers),
                 tuple(tuple(printable(cell) for cell in row) for row in block.rows))


def _blocks(report: dict[str, Any], tz: tzinfo) -> list[Block]:
    meeting, previous, figures = report["meeting"], report["previous_meeting"], report["figures"]
    blocks: list[Block] = [Heading(1, f"{TITLE}: {meeting['title']}"), Paragraph(_about(meeting)),
                           Paragraph(f"As of {_instant(report['as_of'], tz)}, the start of the meeting's first day. "
                                     + _period(previous, report["since"], tz))]
    blocks += [Heading(2, SUMMARY), Table(("Figure", "Number"),
                                          tuple((label, str(figures[key])) for label, key in FIGURES))]
    by_state = ", ".join(f"{n} {_state(s)}" for s, n in figures["mandates_by_state"].items())
    blocks += [Heading(2, MANDATES), Paragraph(f"In force: {figures['mandates_in_force']}"
                                               + (f" ({by_state})." if by_state else "."))]
    blocks.append(_table(("Reference", "Title", "State", "At the previous meeting", "Tasks done", "Tasks open",
                          "Done", "Report due"),
                         [(m["reference"], m["title"], _state(m["state"]),
                           "new" if m["new"] else _state(m["state_before"]), str(m["progress"]["done"]),
                           str(m["progress"]["open"]), f"{m['progress']['percent_done']:g}%", _day(m["report_due"]))
                          for m in report["mandates"]]))
    changes = report["changes"]
    blocks += [Heading(2, CHANGES), Heading(3, NEW_MANDATES),
               _table(("Reference", "Title", "Recorded"),
                      [(m["reference"], m["title"], _instant(m["recorded_at"], tz)) for m in changes["new_mandates"]]),
               Heading(3, STATE_CHANGES),
               _table(("Item", "Title", "From", "To", "When", "By"),
                      [(_kind(c["collection"]), c["title"], _state(c["from"]), _state(c["to"]), _instant(c["at"], tz),
                        c["by"]) for c in changes["state_changes"]]),
               Heading(3, TASKS_DONE),
               _table(("Task", "Done"), [(t["title"], _instant(t["at"], tz)) for t in changes["tasks_done"]]),
               Heading(3, OVERDUE),
               _table(("Item", "Title", "Deadline", "Due", "State"),
                      [(_kind(o["collection"]), o["title"], _state(o["deadline"]), _day(o["due"]), _state(o["state"]))
                       for o in changes["overdue"]])]
    blocks += [Heading(2, CONCLUSIONS), *_conclusions(report)]
    blocks += [Heading(2, SUPPORT), *_support(report["support"])]
    return blocks


def _about(meeting: dict[str, Any]) -> str:
    where = f", {meeting['place']}" if meeting.get("place") else ""
    return f"{meeting['body_name']}{where}, {_dates(meeting)}."


def _period(previous: dict[str, Any] | None, since: datetime | None, tz: tzinfo) -> str:
    if previous is None:
        return "No earlier meeting of this body: changes are counted from the first record."
    return (f"Changes are counted from the previous meeting, {previous['title']} ({_dates(previous)}), "
            f"from {_instant(since, tz)}.")


def _conclusions(report: dict[str, Any]) -> list[Block]:
    if report["previous_meeting"] is None:
        return [Paragraph("No earlier meeting of this body.")]
    if not report["conclusions"]:
        return [Paragraph("No conclusion of the previous meeting was on record by this meeting's date.")]
    blocks: list[Block] = []
    for c in report["conclusions"]:
        kind = " (a decision tasking someone)" if c["tasks_someone"] else ""
        blocks.append(Paragraph(f"Conclusion {c['number']}{kind}: {c['text']}"))
        made = tuple(f"{_kind(m['collection'])}: {m['title']} ({_state(m['state'])})" for m in c["made"])
        blocks.append(Bullets(made) if made else Paragraph("Nothing made of it yet."))
    return blocks


def _support(support: dict[str, Any]) -> list[Block]:
    scope = f" Requests of {support['scope']} only." if support["scope"] else ""
    total = sum(row["count"] for row in support["rows"])
    outcomes = ", ".join(f"{n} {o}" for o, n in support["by_outcome"].items())
    return [Paragraph(f"Requests: {total}" + (f" ({outcomes})." if outcomes else ".") + scope),
            _table(("Party", "Kind", "Outcome", "Requests"),
                   [(r["party"], r["kind"], r["outcome"], str(r["count"])) for r in support["rows"]])]


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> Block:
    return Table(headers, tuple(rows)) if rows else Paragraph(NONE)


def _dates(meeting: dict[str, Any]) -> str:
    starts, ends = meeting["starts_on"], meeting["ends_on"]
    return _day(starts) if starts == ends else f"{_day(starts)} to {_day(ends)}"


def _day(day: date | None) -> str:
    return day.isoformat() if day is not None else "-"


def _instant(instant: datetime | None, tz: tzinfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if instant is not None else "-"


def _state(state: str | None) -> str:
    return state.replace("_", " ") if state else "-"


def _kind(collection: str) -> str:
    return {"mandates": "Mandate", "tasks": "Task"}.get(collection, collection)
