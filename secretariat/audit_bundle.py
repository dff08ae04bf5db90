"""Audit export bundles: their format, and their check with nothing but the bundle (no settings, no database).

Only the standard library, `cryptography` and the chain's pure algorithm (projections.chain) are
imported here, so `secretariat audit verify-export` runs on an auditor's machine without a store.

A bundle is a zip holding:

events.jsonl
    One line per included stored event, in log order: `{"position": 5, "originator_id": "<uuid>",
    "version": 1, "topic": "domain.task:Task.Started", "state": "<the stored payload>"}`, where
    `state` is the stored JSON text exactly as stored (the chain commits to the SHA-256 of its
    canonical form: see projections.chain). An event whose payload holds a password hash (a top-level
    `password_hash` key: a user's `User.Registered` and `User.PasswordChanged`) is redacted: its line
    has no `state` but the two things the chain needs of it, `{"position", "originator_id",
    "version", "topic", "time": "<its timestamp, or empty>", "payload_sha256": "<64 hex>",
    "redacted": "password hash"}`. The entry still recomputes; only the payload is not shown. The
    digest reveals nothing of the payload: a salted argon2 hash inside it cannot be guessed.
chain.jsonl
    The sealed entry of each line of events.jsonl, line for line: `{"position": 5, "seq": 5,
    "previous": "<the hash of the entry before it>", "hash": "<this entry's hash>"}`; `seq` is the
    entry's number in the chain (1 for the first), `previous` is 64 zeros for the first.
checkpoint.json
    A signed checkpoint of the head the bundle ends at (see secretariat.audit_signing) with an
    `export` member: `{"format": "secretariat-audit-export/2", "events": <lines>, "filter": {"item",
    "since", "until"} (null when not filtered), "events_sha256", "chain_sha256"}`: the SHA-256 of
    the two files as they are in the zip, so the signature covers every byte of them.
attachments.jsonl
    The manifest of the files attached to items by the events included, in log order:
    `{"position", "item_id", "topic", "sha256", "name", "media_type", "size"}`, each from its
    `AttachmentAdded` event (whose `state` carries the same digest); the checkpoint's export member
    signs its SHA-256 (`attachments_sha256`) and its line count (`attachments`). The bytes stay in the store.
public_key.pem
    The public key that signed the checkpoint.
README.md
    This format, and how to check a bundle by hand.

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
from datetime import datetime, timezone
from itertools import zip_longest
from pathlib import Path
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from projections.chain import GENESIS, NotCanonical, entry_hash_of, read_payload
from secretariat.audit_signing import KeyProblem, checkpoint_problem, public_raw, read_public_key

BUNDLE_FORMAT = "secretariat-audit-export/2"  # /1 hashed the payload itself into the chain
EVENTS, CHAIN, CHECKPOINT, PUBLIC_KEY, README = ("events.jsonl", "chain.jsonl", "checkpoint.json", "public_key.pem",
                                                 "README.md")
ATTACHMENTS = "attachments.jsonl"
ATTACHMENT_ADDED = ".AttachmentAdded"  # the end of the topic of every item's AttachmentAdded event
_HEX = re.compile("[0-9a-f]{64}")
_decode = json.JSONDecoder().decode
_string = json.encoder.encode_basestring  # a JSON string, non-ASCII as itself
# Top-level payload keys that make an event's line redacted: its payload is never written.
SECRET_KEYS = frozenset({"password_hash"})
REDACTED = "password hash"


def is_secret(payload: Any) -> bool:
    """Whether a parsed stored payload holds a secret (a password hash), so its line is redacted."""
    return type(payload) is dict and not SECRET_KEYS.isdisjoint(payload)


def event_line(position: int, originator_id: Any, version: int, topic: str, state: bytes) -> bytes:
    # As json.dumps(..., ensure_ascii=False, separators=(",", ":")) writes it, with the C string encoder directly.
    return (f'{{"position":{int(position)},"originator_id":{_string(str(originator_id))},"version":{int(version)},'
            f'"topic":{_string(topic)},"state":{_string(state.decode("utf-8"))}}}\n').encode("utf-8")


def redacted_line(position: int, originator_id: Any, version: int, topic: str, time: str,
                  payload_sha256: str) -> bytes:
    """The line of an event whose payload is not shown: what its entry hash needs instead (see the module's text)."""
    return (f'{{"position":{int(position)},"originator_id":{_string(str(originator_id))},"version":{int(version)},'
            f'"topic":{_string(topic)},"time":{_string(time)},"payload_sha256":"{payload_sha256}",'
            f'"redacted":"{REDACTED}"}}\n').encode("utf-8")


def attachment_line(position: int, originator_id: Any, topic: str, payload: Any) -> bytes | None:
    """The manifest line of an event that attached a file to an item; None for any other event."""
    data = payload.get("data") if type(payload) is dict and topic.endswith(ATTACHMENT_ADDED) else None
    if type(data) is not dict:
        return None
    line = {"position": position, "item_id": str(originator_id), "topic": topic,
            **{k: data.get(k) for k in ("sha256", "name", "media_type", "size")}}
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def chain_line(position: int, seq: int, previous: str, digest: str) -> bytes:
    return (f'{{"position":{position},"seq":{seq},"previous":"{previous}","hash":"{digest}"}}\n').encode("ascii")


def parse_time(text: Any) -> datetime | None:
    """An ISO 8601 instant; one without an offset is taken as UTC. None when it is not one."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


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
            for number, (event_raw, entry_raw) in enumerate(zip_longest(events_file, chain_file), 1):
                if event_raw is None:
                    return refused("chain.jsonl has more lines than events.jsonl", f"{CHAIN} line {number}")
                if entry_raw is None:
                    return refused("events.jsonl has more lines than chain.jsonl", f"{EVENTS} line {number}")
                events_digest.update(event_raw)
                chain_digest.update(entry_raw)
                event, entry = _event(event_raw), _fields(entry_raw, _ENTRY)
                if event is None:
                    return refused("not an event line (position, originator_id, version, topic, and either state "
                                   "or time, payload_sha256 and redacted)", f"{EVENTS} line {number}")
                if entry is None or not _is_hash(entry["previous"]) or not _is_hash(entry["hash"]):
                    return refused("not a chain entry line (position, seq, previous, hash)", f"{CHAIN} line {number}")
                position, seq = entry["position"], entry["seq"]
                at = f"line {number} (position {position})"
                if event["position"] != position:
                    return refused(f"events.jsonl has position {event['position']} where chain.jsonl has "
                                   f"{position}: a line was dropped, added or moved", f"line {number}")
                if last is not None and (position <= last["position"] or seq <= last["seq"]):
                    return refused(f"position {position} (entry {seq}) comes after position {last['position']} "
                                   f"(entry {last['seq']}): lines were moved", at)
                expected = last["seq"] + 1 if last is not None else 1
                if full and seq != expected:
                    return refused(f"entry {seq} where entry {expected} should be: an entry of this full "
                                   f"export is missing or out of place", at)
                if seq == 1 and entry["previous"] != GENESIS:
                    return refused("the chain's first entry does not start from 64 zeros", at)
                if last is not None and seq == last["seq"] + 1 and entry["previous"] != last["hash"]:
                    return refused(f"entry {seq} does not link to entry {last['seq']} before it (its previous "
                                   f"hash is not that entry's hash)", at)
                try:
                    if "state" in event:
                        _payload, digest, time = read_payload(event["state"].encode("utf-8"))
                    else:  # redacted: the payload's digest and time stand for it
                        digest, time = event["payload_sha256"], event["time"]
                    computed = entry_hash_of(entry["previous"], position, event["originator_id"], event["version"],
                                             event["topic"], time, digest)
                except (NotCanonical, UnicodeEncodeError) as error:
                    return refused(f"the event's {'state' if 'state' in event else 'line'}: {error}", at)
                if computed != entry["hash"]:
                    return refused(f"the event does not match its chain entry: recomputed {computed}, "
                                   f"chain.jsonl says {entry['hash']} (the event or the entry was changed)", at)
                if item is not None and event["originator_id"] != item:
                    return refused(f"an event of {event['originator_id']} in an export of {item}", at)
                if since is not None or until is not None:
                    moment = parse_time(time)
                    if moment is None or (since and moment < since) or (until and moment >= until):
                        return refused("an event outside the exported time range", at)
                if position > head_position or seq > length:
                    return refused(f"an entry beyond the signed head (position {head_position}, entry {length})", at)
                if seq == length and (position != head_position or entry["hash"] != head):
                    return refused(f"entry {seq} is not the signed head {head} at position {head_position}", at)
                last = {"position": position, "seq": seq, "hash": entry["hash"]}
                checked += 1
                if progress and checked % every == 0:
                    progress(every)
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


def readme(checkpoint: dict[str, Any]) -> str:
    """The README.md of a bundle whose checkpoint is `checkpoint`."""
    export = checkpoint["export"]
    wanted = export["filter"]
    full = all(value is None for value in wanted.values())
    scope = ("every event of the log up to the head (a full export)" if full else
             "the events " + ", ".join(f"{name} {value}" for name, value in
                                       (("of item", wanted["item"]), ("at or after", wanted["since"]),
                                        ("before", wanted["until"])) if value is not None)
             + " up to the head (a subset)")
    return _README.format(scope=scope, events=export["events"], position=checkpoint["position"],
                          length=checkpoint["length"], head=checkpoint["hash"], time=checkpoint["time"],
                          key=checkpoint["public_key"])


_README = """\
# Secretariat audit export

This bundle holds {scope}: {events} events. The chain's head it ends at, signed {time}:
entry {length} at position {position} of the notification log, hash `{head}`, signed by the Ed25519 key
`{key}` (base64 of its 32 raw bytes; `public_key.pem` is the same key).

Check it with `secretariat audit verify-export THIS.zip [--public-key TRUSTED.pem]` (needs no database), or by
hand as below. Without `--public-key` the bundled key is trusted on first use: compare it with the key the
Secretariat published (`secretariat audit public-key`).

## Files

- `events.jsonl`: one stored event per line, in log order:
  `{{"position", "originator_id", "version", "topic", "state"}}`; `state` is the stored JSON text, exactly as
  stored. An event whose payload holds a password hash (a user's `User.Registered` and `User.PasswordChanged`)
  is redacted: its line has no `state`, but `{{"position", "originator_id", "version", "topic", "time",
  "payload_sha256", "redacted": "password hash"}}`: the event's time and the SHA-256 of its canonical payload,
  all its entry hash needs. So every entry still recomputes; the redacted payloads are only not shown (their
  digest reveals nothing of them: the salted argon2 hash inside cannot be guessed).
- `chain.jsonl`: the sealed chain entry of each event, line for line: `{{"position", "seq", "previous", "hash"}}`;
  `seq` numbers the entries from 1, `previous` is the hash of entry `seq - 1` (64 zeros for entry 1).
- `checkpoint.json`: the head, signed. Its `export` member gives the number of lines, the filter, and the SHA-256
  of `events.jsonl` and `chain.jsonl`, so the signature covers every byte of both.
- `attachments.jsonl`: the files attached to items by these events, one line each: `{{"position", "item_id",
  "topic", "sha256", "name", "media_type", "size"}}` (the same digest is in the event's `state`); the checkpoint
  signs its SHA-256 as `attachments_sha256`. The files themselves stay in the store.
- `public_key.pem`: the signing key's public key.

## The entry hash

Lower-case hex SHA-256 over seven fields, each framed as its length in bytes (8-byte unsigned big-endian)
followed by the bytes: (1) `previous` as 64 ASCII hex characters, (2) the position, ASCII decimal, (3) the
originator id, (4) the version, ASCII decimal, (5) the topic, UTF-8, (6) the time: `state["timestamp"]["_data_"]`
or the empty string, UTF-8 (a redacted line gives it as `time`), (7) the payload digest, as its 64 ASCII hex
characters: the lower-case hex SHA-256 of the canonical payload, that is of `state` parsed and written again
with sorted keys, no whitespace, non-ASCII characters as themselves, UTF-8 (a redacted line gives it as
`payload_sha256`). An event line has either `state` or `payload_sha256` and `time`, never both.

```python
import hashlib, json, struct

def field(b): return struct.pack(">Q", len(b)) + b

def entry_hash(previous, event):
    if "state" in event:
        payload = json.loads(event["state"])
        time = (payload.get("timestamp") or {{}}).get("_data_", "")
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.sha256(canonical).hexdigest()
    else:  # redacted
        time, digest = event["time"], event["payload_sha256"]
    return hashlib.sha256(b"".join(field(x) for x in (
        previous.encode(), str(event["position"]).encode(), event["originator_id"].encode(),
        str(event["version"]).encode(), event["topic"].encode(), time.encode(), digest.encode()))).hexdigest()

with open("events.jsonl", "rb") as events, open("chain.jsonl", "rb") as chain:
    last = None
    for e, c in zip(map(json.loads, events), map(json.loads, chain)):
        assert ("state" in e) != ("payload_sha256" in e)
        assert e["position"] == c["position"] and entry_hash(c["previous"], e) == c["hash"]
        if last and c["seq"] == last["seq"] + 1:
            assert c["previous"] == last["hash"]
        last = c
```

Do not canonicalise a payload with jq: its output differs (it escapes U+007F; jq 1.6 rounds integers beyond
2^53). jq serves to look: `jq -c 'select(.redacted)' events.jsonl` lists the redacted lines, and
`jq -r 'select(.state) | .state | fromjson | keys[]' events.jsonl | sort -u` the top-level keys of the payloads
shown (never a password hash's).

The signature: Ed25519 over `checkpoint.json` without its `signature` member, as canonical JSON (sorted keys, no
whitespace), e.g. with jq and OpenSSL 3:

    jq -cjS 'del(.signature)' checkpoint.json > signed.bin
    jq -rj .signature checkpoint.json | base64 -d > signature.bin
    openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in signed.bin -sigfile signature.bin

and `sha256sum events.jsonl chain.jsonl` (or `openssl dgst -sha256 events.jsonl chain.jsonl`) must print the
checkpoint's `events_sha256` and `chain_sha256`: the signature covers the redacted lines as they are, too.

## What it proves

A full export: every entry recomputes from the events, from 64 zeros to the signed head, so the bundle is the
whole log as sealed; a changed, dropped, added or reordered event or entry breaks a hash or a link. A redacted
line is proven the same way (its type, item, version, time and payload digest are the sealed ones), but its
payload is not in the bundle, so what it said cannot be read from it: only that it is the sealed event.
A checkpoint handed over earlier (position p, hash h) is proven by the entry at position p in `chain.jsonl`
having hash h.

A subset (an item, a time range): each event recomputes to its entry's hash from the stated previous hash, and
consecutive entries link; the signature proves that the key's holder issued exactly these lines with this head.
It does not prove by itself that the stated previous hashes are genuine where the entry before is not included,
so not that these events are in the chain that ends at the signed head (the link runs through events left out);
nor that no event of the item or range was left out. Check that against a full export of the same head (its
`chain.jsonl` must hold the same lines) or with `secretariat audit verify-checkpoint` on the store.
"""
