"""The Secretariat's progress report for a meeting: built once as data (content.py), written as
Markdown, Word or a printable HTML page, served at GET /meetings/{id}/report and by `secretariat report`."""
