"""The report as Markdown (GitHub tables), for pasting into minutes or a wiki."""

from __future__ import annotations

from report.outline import Block, Bullets, Heading, Paragraph, Table

MEDIA_TYPE = "text/markdown"


def markdown(blocks: list[Block]) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"{'#' * block.level} {_text(block.text)}")
        elif isinstance(block, Paragraph):
            parts.append(_text(block.text))
        elif isinstance(block, Bullets):
            parts.append("\n".join(f"- {_text(item)}" for item in block.items))
        else:
            parts.append(_table(block))
    return "\n\n".join(parts) + "\n"


def _table(table: Table) -> str:
    lines = [_row(table.headers), "|" + "|".join("---" for _ in table.headers) + "|"]
    return "\n".join(lines + [_row(row) for row in table.rows])


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(_text(cell).replace("|", "\\|") for cell in cells) + " |"


def _text(text: str) -> str:
    """One line: a title or a conclusion typed over several lines stays in its cell or paragraph; a typed `<`
    is escaped, so markup someone typed reads as text wherever the Markdown is rendered, never as raw HTML."""
    return " ".join(text.split()).replace("<", "\\<")
