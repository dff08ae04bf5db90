"""The report as a Word document (.docx), what a secretariat circulates to a Committee."""

from __future__ import annotations

from io import BytesIO

from docx import Document

from report.outline import Block, Bullets, Heading, Paragraph, Table, printable

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def word_document(blocks: list[Block], *, title: str) -> bytes:
    document = Document()
    document.core_properties.title = printable(title)[:255]  # the most a core property holds
    document.core_properties.author = "Secretariat"
    for block in blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level - 1)  # 0 is Word's Title style
        elif isinstance(block, Paragraph):
            document.add_paragraph(block.text)
        elif isinstance(block, Bullets):
            for item in block.items:
                document.add_paragraph(item, style="List Bullet")
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
            cell.text = text
