"""Lists and the dashboard as spreadsheets: CSV and .xlsx, with the filters applied, bounded in rows.

People still make their reports in spreadsheets; an export is the list they see (state labels, titles,
the linked items' titles), not the store's raw ids only. A cell that a spreadsheet would run as a formula
(`=`, `+`, `-`, `@`) is written with a leading apostrophe, so an item's text can never become one.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from api.page_display import label_for, linked_fields
from domain.actor import Actor
from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from domain.workflow import Workflow
from projections.queries import PROGRESS_KEY, ReadModels

EXPORT_ROWS = 5_000  # rows in one export at most; the response says how many matched in all
FORMATS = ("csv", "xlsx")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
# For the OpenAPI document of each route that exports.
EXPORT_RESPONSES = {200: {"description": "JSON, or with ?format= a CSV or .xlsx file (at most "
                                         f"{EXPORT_ROWS} rows; X-Total-Count says how many matched)",
                          "content": {"text/csv": {"schema": {"type": "string"}},
                                      XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}
CELL_TEXT = 32_000  # a spreadsheet cell holds 32,767 characters
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def item_table(workflow: Workflow, items: Sequence[WorkflowItem], titles: Mapping[str, str],
               tz: ZoneInfo) -> tuple[list[str], list[list[Any]]]:
    """The headers and rows of a list: title, state in words, each field (a linked item by its title, if the
    reader may read it), created and updated in the Secretariat's time zone, and the item's id."""
    links = linked_fields()
    fields = [f for f in workflow.fields if f.name not in ("title",)]
    zone = tz.key
    headers = ["Title", "State", *(label_for(f.name) for f in fields), f"Created ({zone})", f"Updated ({zone})", "Id"]
    rows = []
    for item in items:
        values = [_cell(item.fields.get(f.name), titles if f.name in links else None) for f in fields]
        rows.append([item.label, label_for(item.state), *values, _local(item.created_on, tz),
                     _local(item.modified_on, tz), str(item.id)])
    return headers, rows


def linked_ids(workflow: Workflow, items: Iterable[WorkflowItem]) -> set[str]:
    """The ids the items' link fields name, whose titles an export shows."""
    names = [f.name for f in workflow.fields if f.name in linked_fields()]
    found: set[str] = set()
    for item in items:
        for name in names:
            value = item.fields.get(name)
            found |= {str(v) for v in value} if isinstance(value, list) else {str(value)} if value else set()
    return found


def export_response(name: str, format: str, headers: list[str], rows: list[list[Any]],
                    total: int | None = None) -> Response:
    """The rows as a file to download; if the rows were cut at EXPORT_ROWS (of `total`), a last row says so."""
    total = len(rows) if total is None else total
    if total > len(rows):
        rows = [*rows, [f"… {total - len(rows)} more not exported: an export holds at most {EXPORT_ROWS} rows; "
                        "narrow the filters"]]
    content = _xlsx(name, headers, rows) if format == "xlsx" else _csv(headers, rows)
    filename = f"{name}-{date.today().isoformat()}.{format}"
    return Response(content, media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "X-Total-Count": str(total),
        "X-Export-Limit": str(EXPORT_ROWS), "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def export_items(read_models: ReadModels, actor: Actor, workflow: Workflow, items: Sequence[WorkflowItem], total: int,
                 format: str, tz: ZoneInfo) -> Response:
    """A list's items as a CSV or .xlsx file, linked items named by their titles (those the reader may read)."""
    titles = read_models.titles(actor, linked_ids(workflow, items))
    headers, rows = item_table(workflow, items, titles, tz)
    return export_response(workflow.collection, format, headers, rows, total)


def dashboard_table(board: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The dashboard as one table: counts by state, overdue and upcoming deadlines, mandates' progress."""
    headers = ["Section", "Collection", "Item", "State or deadline", "Number", "Due", "Assignee", "Percent done"]
    rows: list[list[Any]] = []
    for collection, states in board["counts"].items():
        rows += [["Count", _collection(collection), "", label_for(state), n, None, "", None]
                 for state, n in states.items()]
    for section in ("overdue", "upcoming"):
        rows += [[section.capitalize(), _collection(d["collection"]), d["title"] or "",
                  label_for(d["kind"]), None, d["due"], d.get("assignee") or "", None] for d in board[section]]
    rows += [["Progress", "", m.get("reference") or m["id"], label_for(m["state"]),
              m["open"] + m["done"], None, "", m["percent_done"]] for m in board.get(PROGRESS_KEY, [])]
    return headers, rows


def _collection(name: str) -> str:
    workflow = WORKFLOW_ITEMS.workflows.get(name)
    return f"{workflow.title}s" if workflow else name


def _cell(value: Any, titles: Mapping[str, str] | None) -> Any:
    if titles is not None and value:
        return ", ".join(titles.get(str(v), str(v)) for v in (value if isinstance(value, list) else [value]))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return len(value) or None  # e.g. a meeting's conclusions: how many
    return value


def _local(instant: datetime | None, tz: ZoneInfo) -> datetime | None:
    # Without the offset: spreadsheets keep no time zone, so the header names it.
    return instant.astimezone(tz).replace(tzinfo=None, microsecond=0) if instant else None


def _safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # amounts in euros: a spreadsheet adds up numbers, not text
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, date)):
        return value
    # A control character (other than tab and line breaks) is not allowed in a spreadsheet's XML: openpyxl
    # refuses the whole file. Free text may hold one (a description typed with it), so it is left out.
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value)[:CELL_TEXT])
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv(headers: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat(sep=" ") if isinstance(v, datetime) else _safe(v)
                         for v in row])
    return out.getvalue().encode("utf-8-sig")  # with a byte-order mark, so spreadsheets read it as UTF-8


def _xlsx(name: str, headers: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(name[:31])
    sheet.append(headers)
    for row in rows:
        sheet.append([_safe(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
