"""Audit export bundles: their format, the lines they hold, and their README.

Only the standard library is imported here, so the offline check (audit.bundle_check) runs on an
auditor's machine without a store. A bundle is a zip holding:

events.jsonl
    One line per included stored event, in log order: `{"position": 5, "originator_id": "<uuid>",
    "version": 1, "topic": "domain.task:Task.Started", "state": "<the stored payload>"}`, where
    `state` is the stored JSON text exactly as stored (the chain commits to the SHA-256 of its
    canonical form: see audit.chain). An event whose payload holds a password hash (a top-level
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
    A signed checkpoint of the head the bundle ends at (see audit.signing) with an
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

The check is audit.bundle_check's `verify_bundle`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

BUNDLE_FORMAT = "secretariat-audit-export/2"  # /1 hashed the payload itself into the chain
EVENTS, CHAIN, CHECKPOINT, PUBLIC_KEY, README = ("events.jsonl", "chain.jsonl", "checkpoint.json", "public_key.pem",
                                                 "README.md")
ATTACHMENTS = "attachments.jsonl"
ATTACHMENT_ADDED = ".AttachmentAdded"  # the end of the topic of every item's AttachmentAdded event
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
