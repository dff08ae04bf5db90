"""The report written in each format it is offered in: its bytes, media type and file name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal

from api.rendering import dumps
from report import docx, html, markdown
from report.outline import outline

Format = Literal["html", "md", "docx", "json"]
FORMATS: tuple[str, ...] = ("html", "md", "docx", "json")
MEDIA_TYPES = {"html": html.MEDIA_TYPE, "md": markdown.MEDIA_TYPE, "docx": docx.MEDIA_TYPE,
               "json": "application/json"}


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str  # with its charset where it is text
    filename: str


def rendered(report: dict[str, Any], format: str, tz: tzinfo) -> Rendered:
    """The report in `format` (one of FORMATS)."""
    meeting = report["meeting"]
    filename = f"report-{meeting['body']}-{meeting['starts_on'].isoformat()}.{format}"
    title = f"Progress report: {meeting['title']}"
    if format == "json":
        return Rendered(dumps(report), "application/json", filename)
    blocks = outline(report, tz)
    if format == "docx":
        return Rendered(docx.word_document(blocks, title=title), docx.MEDIA_TYPE, filename)
    if format == "md":
        return Rendered(markdown.markdown(blocks).encode(), f"{markdown.MEDIA_TYPE}; charset=utf-8", filename)
    return Rendered(html.html_page(blocks, title=title).encode(), f"{html.MEDIA_TYPE}; charset=utf-8", filename)
