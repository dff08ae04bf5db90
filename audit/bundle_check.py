"""An export bundle checked with nothing but the bundle (no settings, no database).

Only the standard library, `cryptography`, the chain's pure algorithm and its walker (audit.chain, audit.walk)
are imported here, so `secretariat audit verify-export` runs on an auditor's machine without a store. The
bundle's format is in audit.bundle_format.

The check (verify_bundle): the checkpoint's signature with the bundled key (or the one the auditor
pins), then line by line: the event and the entry are at the same position, positions and entry
numbers increase, each entry's hash recomputes from its `previous` and the event (from its `state`, or a
redacted line's `payload_sha256` and `time`: a line with both or neither is refused), an entry that
follows the one before it in the chain (seq + 1) has that entry's hash as `previous` and the first
entry has 64 zeros, each event matches the filter (by its time, from `state` or a redacted line's
`time`), and an entry numbered as the head is the signed head; then the line count and both files' SHA-256 against the signed ones. A full export (no filter)
must also hold every entry from the first to the signed head, with no gap. When the checkpoint signs an
attachments manifest (`attachments_sha256`), attachments.jsonl must be that file.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.bundle_format import ATTACHMENTS, BUNDLE_FORMAT, CHAIN, CHECKPOINT, EVENTS, PUBLIC_KEY, parse_time
from audit.chain import GENESIS
from audit.signing import KeyProblem, checkpoint_problem, public_raw, read_public_key
from audit.walk import MISSING, UNREADABLE, UNSEALED, Digest, Disagreement, walk

_HEX = re.compile("[0-9a-f]{64}")
_decode = json.JSONDecoder().decode


def _is_hash(value: Any) -> bool:
    return type(value) is str and _HEX.fullmatch(value) is not None


def _fields(line: bytes, names: dict[str, type]) -> dict[str, Any] | None:
    try:
        doc = _decode(line.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError too
        return None
    if type(doc) is not dict:
        return None
    for name, kind in names.items():
        if type(doc.get(name)) is not kind:  # so no bool for an int
            return None
    return doc


_EVENT = {"position": int, "originator_id": str, "version": int, "topic": str}
_REDACTED = {"time": str, "payload_sha256": str, "redacted": str}  # a redacted line's, instead of "state"
_ENTRY = {"position": int, "seq": int, "previous": str, "hash": str}


def _event(line: bytes) -> dict[str, Any] | None:
    """An events.jsonl line: shown (its `state`) or redacted (its `time`, `payload_sha256` and `redacted`), never
    both, never neither; None when it is not one."""
    doc = _fields(line, _EVENT)
    if doc is None:
        return None
    if "state" in doc:
        shown = type(doc["state"]) is str and _REDACTED.keys().isdisjoint(doc)
        return doc if shown else None
    redacted = all(type(doc.get(name)) is kind for name, kind in _REDACTED.items())
    return doc if redacted and _is_hash(doc["payload_sha256"]) else None


class _BadLine(ValueError):
    def __init__(self, file: str, problem: str) -> None:
        super().__init__(problem)
        self.file, self.problem = file, problem


def _events(lines: Iterator[bytes], digest: Any) -> Iterator[tuple]:
    """events.jsonl's lines as the walker's events (a redacted line's state is its Digest); _BadLine on one that
    is not an event line."""
    for raw in lines:
        digest.update(raw)
        event = _event(raw)
        if event is None:
            raise _BadLine(EVENTS, "not an event line (position, originator_id, version, topic, and either state "
                                   "or time, payload_sha256 and redacted)")
        state = event["state"] if "state" in event else Digest(event["time"], event["payload_sha256"])
        yield event["position"], event["originator_id"], event["version"], event["topic"], state


def _entries(lines: Iterator[bytes], digest: Any) -> Iterator[tuple]:
    """chain.jsonl's lines as the walker's seals, each stating its previous hash; _BadLine on one that is not an
    entry line."""
    for raw in lines:
        digest.update(raw)
        entry = _fields(raw, _ENTRY)
        if entry is None or not _is_hash(entry["previous"]) or not _is_hash(entry["hash"]):
            raise _BadLine(CHAIN, "not a chain entry line (position, seq, previous, hash)")
        yield entry["position"], entry["hash"], None, None, entry["seq"], entry["previous"]


def verify_bundle(path: Path | str, trusted: Ed25519PublicKey | None = None,
                  progress: Callable[[int], None] | None = None, every: int = 10_000) -> dict[str, Any]:
    """Check an export bundle from its contents alone (see the module's text).

    `trusted`: the public key the auditor trusts; None trusts the bundled one (on first use).
    Returns {"ok": True, "events", "full", "position", "length", "head", "time", "filter", "public_key",
    "key"} or {"ok": False, "events": <lines checked before the problem>, "at": where, "problem": why}.
    """
    checked = 0

    def refused(problem: str, at: str) -> dict[str, Any]:
        return {"ok": False, "events": checked, "at": at, "problem": problem}

    try:
        bundle = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        return refused(f"not a readable zip bundle: {error}", str(path))
    with bundle:
        names = set(bundle.namelist())
        missing = [name for name in (EVENTS, CHAIN, CHECKPOINT, PUBLIC_KEY) if name not in names]
        if missing:
            return refused(f"the bundle lacks {', '.join(missing)}", str(path))
        try:
            checkpoint = json.loads(bundle.read(CHECKPOINT))
        except ValueError as error:
            return refused(f"not JSON: {error}", CHECKPOINT)
        try:
            bundled = read_public_key(bundle.read(PUBLIC_KEY))
        except KeyProblem as error:
            return refused(str(error), PUBLIC_KEY)
        if trusted is not None and public_raw(trusted) != public_raw(bundled):
            return refused(f"the bundled key {public_raw(bundled)} is not the trusted key {public_raw(trusted)}",
                           PUBLIC_KEY)
        problem = checkpoint_problem(checkpoint, bundled)
        if problem:
            return refused(problem + " (or public_key.pem was replaced)", CHECKPOINT)
        export = checkpoint.get("export")
        wanted = export.get("filter") if isinstance(export, dict) else None
        if (not isinstance(export, dict) or export.get("format") != BUNDLE_FORMAT or not isinstance(wanted, dict)
                or not isinstance(export.get("events"), int) or not _is_hash(export.get("events_sha256"))
                or not _is_hash(export.get("chain_sha256"))):
            return refused(f"the checkpoint has no valid {BUNDLE_FORMAT} export member", CHECKPOINT)
        item, since, until = wanted.get("item"), parse_time(wanted.get("since")), parse_time(wanted.get("until"))
        full = item is None and wanted.get("since") is None and wanted.get("until") is None
        head_position, head, length = checkpoint["position"], checkpoint["hash"], checkpoint["length"]

        events_digest, chain_digest = hashlib.sha256(), hashlib.sha256()
        last: dict[str, Any] | None = None
        with io.BufferedReader(bundle.open(EVENTS), 1 << 20) as events_file, \
                io.BufferedReader(bundle.open(CHAIN), 1 << 20) as chain_file:
            try:
                for step in walk(_events(events_file, events_digest), _entries(chain_file, chain_digest)):
                    number = checked + 1
                    disagreement = type(step) is Disagreement
                    event, entry, time = (step.event, step.seal, "") if disagreement else (step[0], step[1], step[4])
                    if event is None:
                        return refused("chain.jsonl has more lines than events.jsonl", f"{CHAIN} line {number}")
                    if entry is None:
                        return refused("events.jsonl has more lines than chain.jsonl", f"{EVENTS} line {number}")
                    position, seq, previous = entry[0], entry[4], entry[5]
                    if disagreement and step.kind in (MISSING, UNSEALED):
                        return refused(f"events.jsonl has position {event[0]} where chain.jsonl has {position}: a "
                                       f"line was dropped, added or moved", f"line {number}")
                    at = f"line {number} (position {position})"
                    if last is not None and (position <= last["position"] or seq <= last["seq"]):
                        return refused(f"position {position} (entry {seq}) comes after position "
                                       f"{last['position']} (entry {last['seq']}): lines were moved", at)
                    expected = last["seq"] + 1 if last is not None else 1
                    if full and seq != expected:
                        return refused(f"entry {seq} where entry {expected} should be: an entry of this full "
                                       f"export is missing or out of place", at)
                    if seq == 1 and previous != GENESIS:
                        return refused("the chain's first entry does not start from 64 zeros", at)
                    if last is not None and seq == last["seq"] + 1 and previous != last["hash"]:
                        return refused(f"entry {seq} does not link to entry {last['seq']} before it (its previous "
                                       f"hash is not that entry's hash)", at)
                    if disagreement:
                        if step.kind == UNREADABLE:
                            shown = type(event[4]) is not Digest
                            return refused(f"the event's {'state' if shown else 'line'}: {step.error}", at)
                        return refused(f"the event does not match its chain entry: recomputed {step.computed}, "
                                       f"chain.jsonl says {entry[1]} (the event or the entry was changed)", at)
                    if item is not None and event[1] != item:
                        return refused(f"an event of {event[1]} in an export of {item}", at)
                    if since is not None or until is not None:
                        moment = parse_time(time)
                        if moment is None or (since and moment < since) or (until and moment >= until):
                            return refused("an event outside the exported time range", at)
                    if position > head_position or seq > length:
                        return refused(f"an entry beyond the signed head (position {head_position}, entry "
                                       f"{length})", at)
                    if seq == length and (position != head_position or entry[1] != head):
                        return refused(f"entry {seq} is not the signed head {head} at position {head_position}", at)
                    last = {"position": position, "seq": seq, "hash": entry[1]}
                    checked += 1
                    if progress and checked % every == 0:
                        progress(every)
            except _BadLine as bad:
                return refused(bad.problem, f"{bad.file} line {checked + 1}")
        if progress and checked % every:
            progress(checked % every)
        if checked != export["events"]:
            return refused(f"the bundle holds {checked} events, the checkpoint signs {export['events']}: lines "
                           f"were dropped or added", EVENTS)
        for name, digest, signed in ((EVENTS, events_digest, "events_sha256"), (CHAIN, chain_digest, "chain_sha256")):
            if digest.hexdigest() != export[signed]:
                return refused(f"{name} is not the file that was signed: its SHA-256 is {digest.hexdigest()}, "
                               f"the checkpoint signs {export[signed]}", name)
        if "attachments_sha256" in export and (ATTACHMENTS not in names or hashlib.sha256(
                bundle.read(ATTACHMENTS)).hexdigest() != export["attachments_sha256"]):
            return refused(f"{ATTACHMENTS} is not the manifest that was signed", ATTACHMENTS)
        if full and (last is None or last["seq"] != length or last["hash"] != head):
            return refused(f"the full export does not end at the signed head (entry {length}, {head})", CHAIN)
    return {"ok": True, "events": checked, "full": full, "position": head_position, "length": length, "head": head,
            "time": checkpoint["time"], "filter": wanted, "public_key": public_raw(bundled),
            "key": "pinned" if trusted is not None else "bundled (trusted on first use)"}


