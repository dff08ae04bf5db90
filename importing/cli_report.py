"""The import's report and progress, as the command line shows them (rich)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from importing.importer import ImportReport

# Below this many lines a file imports in a blink: no bar.
LONG_FILE_LINES = 500


@contextmanager
def progress_bar(console: Console, lines: int) -> Iterator[Callable[[int, int], None]]:
    """A callback `(done, total)` moving a bar on long files (a pass run again after refusals starts it over)."""
    if lines < LONG_FILE_LINES or not console.is_terminal:
        yield lambda done, total: None
        return
    with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("import", total=lines)

        def advance(done: int, total: int) -> None:
            if done % 100 == 0 or done == total:
                progress.update(task, completed=done, total=total)

        yield advance


def print_report(console: Console, report: ImportReport) -> None:
    if report.refusals:
        table = Table("line", "item", "refused because", title="Refused (their items were left out, whole)")
        for refusal in report.refusals:
            table.add_row(str(refusal.line), refusal.ref or "-", refusal.reason)
        console.print(table)
    if report.already_present:
        console.print(f"Already imported, left unchanged: {', '.join(report.already_present[:20])}"
                      + (f" and {len(report.already_present) - 20} more" if len(report.already_present) > 20 else ""))
    console.print(("Dry run: nothing recorded. " if report.dry_run else "") + report.summary()
                  + f" in {report.seconds:.1f} s.")
