"""The pages' audit downloads, made from the store: a signed checkpoint and the export bundle.

The same as `secretariat audit checkpoint` and `secretariat audit export` (the CLI), handed to the
app by the composition root as its `AuditArchive` (api/audit_downloads.py). The signing key is
the one beside the data, made on first use exactly as the CLI makes it, so a bundle downloaded
from the pages and one written on the server are signed by the same key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Engine

from audit.export import ExportRefused, write_bundle
from audit.signing import KeyProblem, load_or_create_key, sign_checkpoint
from audit.store import sealed_head


class ArchiveUnavailable(RuntimeError):
    """No checkpoint or bundle could be made: nothing sealed yet, a store not matching its seal, no key."""


class StoreAuditArchive:
    def __init__(self, service: Any, engine: Engine, key_path: Path) -> None:
        self.service, self.engine, self.key_path = service, engine, key_path

    def checkpoint(self) -> dict[str, Any]:
        head = sealed_head(self.engine)
        if head is None:
            raise ArchiveUnavailable("nothing is sealed yet: the chain is sealed as the server follows the log; "
                                     "try again in a moment")
        return sign_checkpoint(self._key(), head.position, head.hash, head.length)

    def export(self, target: Path, *, progress: Callable[[int], None]) -> dict[str, Any]:
        try:
            return write_bundle(self.service, self.engine, target, self._key(), progress=progress)
        except ExportRefused as refused:
            raise ArchiveUnavailable(f"no bundle was written: {refused}") from None

    def _key(self):
        try:
            return load_or_create_key(self.key_path)[0]
        except KeyProblem as problem:
            raise ArchiveUnavailable(f"the audit signing key cannot be used: {problem}") from None
