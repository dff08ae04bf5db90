"""The report as a printable HTML page: one self-contained file, its style inline, nothing fetched."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from report.outline import Block, Bullets, Heading, Paragraph, Table, printable

MEDIA_TYPE = "text/html"

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                         trim_blocks=True, lstrip_blocks=True)


def html_page(blocks: list[Block], *, title: str) -> str:
    kinds = {Heading: "heading", Paragraph: "paragraph", Table: "table", Bullets: "bullets"}
    return _templates.get_template("report.html").render(
        title=printable(title), blocks=[(kinds[type(block)], block) for block in blocks])
