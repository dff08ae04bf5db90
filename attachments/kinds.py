"""Which files may be attached: an allow-list of kinds, each named by the file's extension and confirmed by
its bytes where that is cheap (magic numbers; UTF-8 for text), so a renamed executable is refused.

The media type recorded is the kind's, never the one the client declared: a download is served as
what the bytes were checked to be. A declared type that names another kind is refused too.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from typing import BinaryIO, Callable

CHUNK = 1 << 20
HEAD = 4096  # enough for every magic number below
ZIP = b"PK\x03\x04"
# Declared types that say nothing of the kind: browsers send these for files they do not know.
UNSAID = ("", "application/octet-stream", "binary/octet-stream")


class TooLarge(Exception):
    pass


class NotAllowed(Exception):
    """The file's kind is not on the allow-list, or its bytes are not what its name says."""


@dataclass(frozen=True)
class Measured:
    """What one pass over a file learnt of it."""

    sha256: str
    size: int
    head: bytes
    utf8: bool  # the whole file is UTF-8 text without NUL characters


def measure(source: BinaryIO, max_bytes: int) -> Measured:
    """Hash and size the file in chunks (never whole in memory); TooLarge past `max_bytes`. Rewinds it."""
    source.seek(0)
    digest, size, head = hashlib.sha256(), 0, b""
    decoder, utf8 = codecs.getincrementaldecoder("utf-8")(), True
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"the file is larger than the limit of {max_bytes} bytes")
        digest.update(chunk)
        if len(head) < HEAD:
            head += chunk[:HEAD - len(head)]
        if utf8:
            try:
                decoder.decode(chunk)
                utf8 = b"\x00" not in chunk
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    source.seek(0)
    return Measured(digest.hexdigest(), size, head, utf8)


def _starts(magic: bytes) -> Callable[[Measured], bool]:
    return lambda m: m.head.startswith(magic)


def _opendocument(kind: str) -> Callable[[Measured], bool]:
    # An OpenDocument zip stores its media type first, uncompressed, as the member "mimetype".
    return lambda m: m.head.startswith(ZIP) and f"mimetypeapplication/vnd.oasis.opendocument.{kind}".encode() in m.head


def _text(m: Measured) -> bool:
    return m.utf8


# extension -> (media type, what its bytes must be)
KINDS: dict[str, tuple[str, Callable[[Measured], bool]]] = {
    "pdf": ("application/pdf", _starts(b"%PDF-")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _starts(ZIP)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _starts(ZIP)),
    "odt": ("application/vnd.oasis.opendocument.text", _opendocument("text")),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _opendocument("spreadsheet")),
    "txt": ("text/plain", _text),
    "csv": ("text/csv", _text),
    "md": ("text/markdown", _text),
    "png": ("image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", _starts(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", _starts(b"\xff\xd8\xff")),
}
ALLOWED = ", ".join(f".{ext}" for ext in KINDS)


def media_type_of(name: str, declared: str | None, measured: Measured) -> str:
    """The media type to record for the file, or NotAllowed saying why not."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in KINDS:
        raise NotAllowed(f"files of this kind may not be attached; allowed are: {ALLOWED}")
    media_type, looks_right = KINDS[extension]
    said = (declared or "").split(";")[0].strip().lower()
    if said not in UNSAID and said != media_type and not (media_type.startswith("text/") and said.startswith("text/")):
        raise NotAllowed(f"the file is named .{extension} ({media_type}) but was sent as {said}")
    if not looks_right(measured):
        raise NotAllowed(f"the file is named .{extension} but its content is not {media_type}")
    return media_type
