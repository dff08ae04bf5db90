"""The store's side of checkpoints and export bundles: the sealed head, a checkpoint checked against the
store, and writing a bundle (see secretariat.audit_bundle for its format and its offline check).

A bundle goes to outside auditors, so it never carries a password hash: an event whose payload holds
one (a user's `User.Registered`, `User.PasswordChanged`) is written as a redacted line, its payload's
digest and time in place of its state (the chain commits to that digest: see projections.chain).
Nothing else in a bundle comes from a payload: chain.jsonl holds hashes, the checkpoint the head.

The composition root (the CLI) hands in the application, an engine and the signing key.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, inspect, select

from projections.audit_chain import audit_chain
from projections.chain import GENESIS, NotCanonical, entry_hash_of, read_payload
from secretariat.audit_bundle import (ATTACHMENTS, BUNDLE_FORMAT, CHAIN, CHECKPOINT, EVENTS, PUBLIC_KEY, README,
                                      attachment_line, chain_line, event_line, is_secret, parse_time, readme,
                                      redacted_line)
from secretariat.audit_signing import public_pem, sign_checkpoint

READ_BATCH = 10_000


class ExportRefused(RuntimeError):
    """No bundle was written: nothing is sealed, or the store does not match its seal."""


@dataclass(frozen=True)
class Head:
    position: int
    hash: str
    length: int


def sealed_head(engine: Engine) -> Head | None:
    """The chain's last sealed entry, None while nothing is sealed."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(audit_chain.name):
            return None
        c = audit_chain.c
        row = conn.execute(select(c.position, c.hash, c.seq).order_by(c.position.desc()).limit(1)).first()
    return Head(row.position, row.hash, row.seq) if row else None


def checkpoint_in_store(doc: dict[str, Any], engine: Engine) -> str | None:
    """Why the store's seal does not hold the checkpoint's head (None when it does)."""
    with engine.connect() as conn:
        row = (conn.execute(select(audit_chain.c.hash, audit_chain.c.seq)
                            .where(audit_chain.c.position == doc["position"])).first()
               if inspect(conn).has_table(audit_chain.name) else None)
    if row is None:
        return f"the store has no sealed entry at position {doc['position']}: its seal was cut short or rewritten"
    if row.hash != doc["hash"]:
        return (f"the store's entry at position {doc['position']} has the hash {row.hash}, the checkpoint "
                f"{doc['hash']}: the chain was rewritten since")
    if row.seq != doc["length"]:
        return (f"the store's entry at position {doc['position']} is number {row.seq} of the chain, the "
                f"checkpoint says {doc['length']}")
    return None


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
                stored = _stored(app, head.position, batch_size)
                for position, digest, seq in _sealed(engine, head.position, batch_size):
                    event = next(stored, None)
                    if event is None or event[0] > position:
                        raise ExportRefused(f"the event sealed at position {position} is missing from the log")
                    if event[0] < position:
                        raise ExportRefused(f"the event at position {event[0]} is not sealed")
                    if seq != count + 1:
                        raise ExportRefused(f"the seal numbers the entry at position {position} {seq}, not "
                                            f"{count + 1}")
                    try:
                        payload, payload_sha256, time = read_payload(event[4])
                        computed = entry_hash_of(previous, *event[:4], time, payload_sha256)
                    except NotCanonical as error:
                        raise ExportRefused(f"the event at position {position}: {error}") from None
                    if computed != digest:
                        raise ExportRefused(f"the event at position {position} does not match its seal "
                                            f"(run `secretariat audit verify`)")
                    if not filtered or _wanted(event, time, item, since, until):
                        line = (redacted_line(*event[:4], time, payload_sha256) if is_secret(payload)
                                else event_line(*event))
                        attached = attachment_line(position, event[1], event[3], payload)
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
                    previous, count = computed, count + 1
                    if progress and count % every == 0:
                        progress(every)
                unsealed = next(stored, None)
                if unsealed is not None:
                    raise ExportRefused(f"the event at position {unsealed[0]} is not sealed")
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


def _stored(app: Any, stop: int, batch_size: int) -> Iterator[tuple[int, Any, int, str, bytes]]:
    start = 1
    while start <= stop:
        notifications = app.recorder.select_notifications(start, batch_size, stop=stop)
        for n in notifications:
            yield n.id, n.originator_id, n.originator_version, n.topic, n.state
        if len(notifications) < batch_size:
            return
        start = notifications[-1].id + 1


def _sealed(engine: Engine, stop: int, batch_size: int) -> Iterator[tuple[int, str, int]]:
    after, c = 0, audit_chain.c
    while after < stop:
        with engine.connect() as conn:
            rows = conn.execute(select(c.position, c.hash, c.seq).where(c.position > after, c.position <= stop)
                                .order_by(c.position).limit(batch_size)).all()
        yield from rows
        if len(rows) < batch_size:
            return
        after = rows[-1][0]
