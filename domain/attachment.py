"""What an item records of a file attached to it: the file's digest, name, media type and size.

The bytes themselves are kept outside the event store (see the `attachments` package); the event
holds only this description, so the history and the audit chain carry each file's SHA-256.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from domain.errors import ValidationFailed

SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class Attachment:
    sha256: str
    name: str
    media_type: str
    size: int

    def __post_init__(self) -> None:
        if not SHA256.fullmatch(self.sha256):
            raise ValidationFailed("sha256", "sha256 must be 64 lower-case hexadecimal digits")
        if not self.name.strip() or len(self.name) > MAX_NAME_LENGTH:
            raise ValidationFailed("file", f"the file needs a name of 1 to {MAX_NAME_LENGTH} characters")
        # A name is shown on pages and sent back in Content-Disposition: no control characters, no folders.
        if any(unicodedata.category(c).startswith("C") for c in self.name) or "/" in self.name or "\\" in self.name:
            raise ValidationFailed("file", "the file's name must not contain control characters, / or \\")
        if self.size < 1:
            raise ValidationFailed("file", "the file is empty")

    def as_data(self) -> dict[str, Any]:
        return asdict(self)
