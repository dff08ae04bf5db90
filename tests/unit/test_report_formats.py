"""The report's three written forms carry whatever a person typed: markup, pipes, line breaks, control characters."""

from __future__ import annotations

from datetime import date, datetime, timezone
from io import BytesIO
import re
from zoneinfo import ZoneInfo

import docx

from report.formats import rendered
from report.outline import FIGURES, HEADINGS

TZ = ZoneInfo("Europe/Ljubljana")
TYPED = "Line one\nline two | <script>alert(1)</script> \x0b\x00\ufffe end"
AT = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)


def meeting(title: str) -> dict:
    return {"id": "m", "body": "com", "body_name": "Committee of Ministers", "title": title, "number": None,
            "place": "Sofia", "state": "planned", "starts_on": date(2026, 6, 1), "ends_on": date(2026, 6, 2)}


def report() -> dict:
    progress = {"tasks": {"open": 1}, "open": 1, "done": 0, "percent_done": 0.0}
    mandate = {"id": "a", "reference": "R|1", "title": TYPED, "state": "in_progress", "state_before": None,
               "new": True, "in_force": True, "recorded_at": AT, "report_due": None, "progress": progress}
    change = {"collection": "tasks", "id": "t", "title": TYPED, "from": "in_review", "to": "done", "at": AT,
              "by": "hana", "mandate_id": "a"}
    return {"meeting": meeting("T" * 300 + "\x0b"), "previous_meeting": meeting(TYPED), "since": AT, "as_of": AT,
            "mandates": [mandate],
            "changes": {"new_mandates": [mandate], "state_changes": [change], "tasks_done": [change],
                        "overdue": [{"collection": "tasks", "id": "t", "title": TYPED, "state": "open",
                                     "deadline": "due", "due": date(2026, 5, 1)}]},
            "conclusions": [{"number": 1, "text": TYPED, "tasks_someone": True,
                             "made": [{"collection": "mandates", "id": "a", "title": TYPED, "state": "adopted"}]}],
            "support": {"scope": None, "rows": [{"party": "AL", "kind": "financial", "outcome": "pending", "count": 2}],
                        "by_outcome": {"pending": 2}, "by_party": {"AL": 2}},
            "figures": {"mandates_in_force": 1, "mandates_by_state": {"in_progress": 1}, "new_mandates": 1,
                        "state_changes": 1, "tasks_done": 1, "overdue": 1, "support_requests": 2}}


def test_word_opens_with_every_heading_though_titles_hold_characters_xml_cannot():
    document = docx.Document(BytesIO(rendered(report(), "docx", TZ).body))
    assert [p.text for p in document.paragraphs if p.style.name.startswith("Heading")] == list(HEADINGS)
    assert "\ufffd\ufffd\ufffd end" in document.tables[1].rows[1].cells[1].text
    assert len(document.core_properties.title) == 255


def test_markdown_keeps_each_typed_text_in_its_own_cell_and_line():
    text = rendered(report(), "md", TZ).body.decode()
    row = next(line for line in text.splitlines() if line.startswith("| R\\|1 |"))
    assert row.count(" | ") == 7  # eight cells: the pipe and line break in the title did not add any
    for label, key in FIGURES:
        assert f"| {label} | {report()['figures'][key]} |" in text


def test_html_escapes_typed_markup():
    page = rendered(report(), "html", TZ).body.decode()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\x0b" not in page and "\x00" not in page


def test_markdown_carries_typed_markup_as_text_not_html():
    """Pasted into a wiki, a title typed as `<script>` must show as text, not run or vanish as raw HTML."""
    text = rendered(report(), "md", TZ).body.decode()
    assert not re.search(r"(?<!\\)<", text) and "\\<script>alert(1)\\</script>" in text
