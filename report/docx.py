"""The report as a Word document (.docx), what a secretariat circulates to a Committee."""

from __future__ import annotations

from io import BytesIO

from docx import Document

from report.outline import Block, Bullets, Heading, Paragraph, Table

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def word_document(blocks: list[Block], *, title: str) -> bytes:
    document = Document()
    document.core_properties.title = title
    document.core_properties.author = "Secretariat"
    for block in blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level - 1)  # 0 is Word's Title style
        elif isinstance(block, Paragraph):
            document.add_paragraph(_text(block.text))
        elif isinstance(block, Bullets):
            for item in block.items:
                document.add_paragraph(_text(item), style="List Bullet")
        else:
            _add_table(document, block)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _add_table(document, table: Table) -> None:
    grid = document.add_table(rows=1, cols=len(table.headers))
    grid.style = "Table Grid"
    for cell, header in zip(grid.rows[0].cells, table.headers):
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in table.rows:
        for cell, text in zip(grid.add_row().cells, row):
            cell.text = _text(text)


def _text(text: str) -> str:
    """XML cannot carry control characters a typed text may hold; they are dropped, the rest kept."""
    return "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 32)
