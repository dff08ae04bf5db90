"""Importing the Secretariat's past records: a history file (JSON Lines, or CSV for one row per item) read,
checked line by line and run through the same checks as live commands (see domain/history_import.py).

`import_history_text` is the one entry point; the command line (`secretariat import`) and the API
(`POST /import`) only read the file or body and print or answer its report.
"""

from importing.importer import ImportReport, import_history_text

__all__ = ["ImportReport", "import_history_text"]
