"""Files attached to items (a meeting's agenda and minutes, a request's supporting papers).

An item records each file's SHA-256, name, media type and size as an event (domain/item.py's
`AttachmentAdded`), so its history and the audit chain carry the digest. The bytes are kept by
digest outside the event store (blobs.py): in an owner-only folder beside the SQLite file, or in a
table on PostgreSQL. Whoever reads the item reads its files, nobody else; a download re-checks the
digest and refuses bytes that changed. routes.py holds the HTTP routes and the page parts.
"""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
