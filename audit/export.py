"""Writing an export bundle from the store (see audit.bundle_format for its format, audit.bundle_check for its
offline check).

A bundle goes to outside auditors, so it never carries a password hash: an event whose payload holds
one (a user's `User.Registered`, `User.PasswordChanged`) is written as a redacted line, its payload's
digest and time in place of its state (the chain commits to that digest: see audit.chain).
Nothing else in a bundle comes from a payload: chain.jsonl holds hashes, the checkpoint the head.

The caller (the CLI, the pages' archive) hands in the application, an engine and the signing key.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from audit.chain import GENESIS
from audit.bundle_format import (ATTACHMENTS, BUNDLE_FORMAT, CHAIN, CHECKPOINT, EVENTS, PUBLIC_KEY, README,
                                 attachment_line, chain_line, event_line, is_secret, parse_time, readme,
                                 redacted_line)
from audit.signing import public_pem, sign_checkpoint
from audit.store import READ_BATCH, sealed_head, walk_store
from audit.walk import MISSING, UNREADABLE, UNSEALED, Disagreement


class ExportRefused(RuntimeError):
    """No bundle was written: nothing is sealed, or the store does not match its seal."""


def write_bundle(app: Any, engine: Engine, path: Path, key: Ed25519PrivateKey, *, item: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 progress: Callable[[int], None] | None = None, every: int = 10_000,
                 batch_size: int = READ_BATCH) -> dict[str, Any]:
    """Write an export bundle (a zip) of the chain up to its sealed head, all events or those of `item` /
    at `since` or after and before `until`. The whole chain up to the head is recomputed on the way
    (a bundle is never written from a store that does not match its seal: ExportRefused). An event holding
    a password hash is written redacted (see the module's text).
    Returns the bundle's checkpoint."""
    head = sealed_head(engine)
    if head is None:
        raise ExportRefused("nothing is sealed yet: run with --seal (or start `secretariat serve`) first")
    filtered = item is not None or since is not None or until is not None
    events_digest, chain_digest = hashlib.sha256(), hashlib.sha256()
    part = path.with_name(f".{path.name}.part")
    included = 0
    manifest: list[bytes] = []  # a line per attached file: few beside the events, kept in memory
    try:
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as bundle, \
                tempfile.SpooledTemporaryFile(max_size=32 << 20) as chain_file:
            with bundle.open(_member(EVENTS), "w", force_zip64=True) as events_file:
                pending: list[bytes] = []  # written in chunks: one zip write per line is slow
                previous, count = GENESIS, 0
                with walk_store(app, engine, head.position, payloads=True, numbered=True,
                                batch_size=batch_size) as steps:
                    for step in steps:
                        if type(step) is Disagreement:
                            raise ExportRefused(_refusal(step))
                        event, seal, previous, digest, time, payload_sha256, payload = step
                        position, topic, seq = event[0], event[3], seal[4]
                        if seq != count + 1:
                            raise ExportRefused(f"the seal numbers the entry at position {position} {seq}, not "
                                                f"{count + 1}")
                        if not filtered or _wanted(event, time, item, since, until):
                            line = (redacted_line(*event[:4], time, payload_sha256) if is_secret(payload)
                                    else event_line(*event))
                            attached = attachment_line(position, event[1], topic, payload)
                            if attached is not None:
                                manifest.append(attached)
                            pending.append(line)
                            events_digest.update(line)
                            if len(pending) >= 1000:
                                events_file.write(b"".join(pending))
                                pending.clear()
                            line = chain_line(position, seq, previous, digest)
                            chain_file.write(line)
                            chain_digest.update(line)
                            included += 1
                        previous, count = digest, count + 1
                        if progress and count % every == 0:
                            progress(every)
                if count != head.length or previous != head.hash:
                    raise ExportRefused("the seal changed while it was read; try again")
                events_file.write(b"".join(pending))
            chain_file.seek(0)
            with bundle.open(_member(CHAIN), "w", force_zip64=True) as out:
                shutil.copyfileobj(chain_file, out, 1 << 20)
            export = {"format": BUNDLE_FORMAT, "events": included,
                      "filter": {"item": item, "since": since.isoformat() if since else None,
                                 "until": until.isoformat() if until else None},
                      "events_sha256": events_digest.hexdigest(), "chain_sha256": chain_digest.hexdigest(),
                      "attachments": len(manifest),
                      "attachments_sha256": hashlib.sha256(b"".join(manifest)).hexdigest()}
            checkpoint = sign_checkpoint(key, head.position, head.hash, head.length, export=export)
            bundle.writestr(CHECKPOINT, json.dumps(checkpoint, indent=2) + "\n")
            bundle.writestr(ATTACHMENTS, b"".join(manifest))
            bundle.writestr(PUBLIC_KEY, public_pem(key))
            bundle.writestr(README, readme(checkpoint))
        if progress and count % every:
            progress(count % every)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return checkpoint


def _member(name: str) -> zipfile.ZipInfo:
    """A zip entry written as a stream, dated now (as writestr dates the others)."""
    member = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
    member.compress_type, member.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
    return member


def _wanted(event: tuple, time: str, item: str | None, since: datetime | None, until: datetime | None) -> bool:
    if item is not None and str(event[1]) != item:
        return False
    if since is None and until is None:
        return True
    at = parse_time(time)
    return at is not None and (since is None or at >= since) and (until is None or at < until)


def _refusal(step: Disagreement) -> str:
    """Why no bundle is written, from the walk's first disagreement."""
    position = step.position
    if step.kind == MISSING:
        return f"the event sealed at position {position} is missing from the log"
    if step.kind == UNSEALED:
        return f"the event at position {position} is not sealed"
    if step.kind == UNREADABLE:
        return f"the event at position {position}: {step.error}"
    return f"the event at position {position} does not match its seal (run `secretariat audit verify`)"
