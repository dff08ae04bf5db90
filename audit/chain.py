"""The audit hash chain's algorithm: pure functions over stored events, no database.

An outside tool can recompute every entry from the stored events table alone:

Canonical payload
    The stored event's `state` bytes (the `eventsourcing` transcoder's JSON, UTF-8) parsed as
    JSON and written again with the keys of every object sorted by code point, no whitespace
    (separators `,` and `:`), non-ASCII characters as themselves (not `\\uXXXX`), encoded as
    UTF-8. In Python: `json.dumps(json.loads(state), sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode("utf-8")`. Strings escape `"`, `\\` and the control characters
    below U+0020 as JSON requires (`\\n`, `\\t`, ... and `\\u00XX` for the others); the
    transcoder writes no floats (dates, decimals and UUIDs are strings), integers are decimal.
    (Verification gets these bytes quicker from orjson where it writes the same: see `_quick`.)

Time
    The event's own timestamp as stored in the payload: the string `state["timestamp"]["_data_"]`
    (ISO 8601, e.g. `2026-11-23T09:00:00+00:00`); the empty string if the payload has none.

Payload digest
    The lower-case hex SHA-256 of the canonical payload: 64 ASCII characters. The chain commits to
    the payload through it, so an export may leave a payload out (a user's password hash: see
    audit.bundle_format) and give only its digest and time, and the entry still recomputes.

Entry hash
    Lower-case hex SHA-256 over seven fields, in this order, each framed as its length in bytes
    (8-byte unsigned big-endian) followed by the bytes themselves, so that no two different
    entries frame to the same bytes:

    1. the previous entry's hash, as its 64 ASCII hex characters (the first entry: 64 zeros),
    2. the position in the notification log, ASCII decimal,
    3. the originator (item) id, the UUID's canonical lower-case hyphenated ASCII form (SQLite
       stores 32 hex digits, PostgreSQL a uuid),
    4. the originator version, ASCII decimal,
    5. the topic (the event's type, e.g. `domain.task:Task.Started`), UTF-8,
    6. the time (above), UTF-8,
    7. the payload digest (above), as its 64 ASCII hex characters (so this field's length is
       always 64), not the payload itself.

    In Python, with `field = lambda b: struct.pack(">Q", len(b)) + b`:
    `sha256(b"".join(map(field, (previous.encode(), b"%d" % position, str(originator_id).encode(),
    b"%d" % version, topic.encode(), time.encode(), sha256(canonical).hexdigest().encode()))))
    .hexdigest()`.

The chain's head is the last entry's hash; its length is the number of entries.
"""

from __future__ import annotations

import json
import struct
from hashlib import sha256
from typing import Any

import orjson

GENESIS = "0" * 64
_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_dumps = _encoder.encode
_loads = json.JSONDecoder().decode
_length = struct.Struct(">Q").pack


class NotCanonical(ValueError):
    """The stored payload is not JSON (so not what the transcoder wrote), or has no canonical form."""


def _time(payload: Any) -> str:
    try:
        time = payload["timestamp"]["_data_"]
    except (KeyError, TypeError):  # not an object, or without the key
        return ""
    return time if isinstance(time, str) else str(time)


def canonical(state: bytes) -> tuple[bytes, str]:
    """The canonical payload of stored `state` bytes, and the event's time from it (the documented form)."""
    try:
        payload = _loads(state.decode("utf-8"))
        # Encoding may fail too: a lone surrogate escape (`"\ud800"`) parses but is not UTF-8.
        return _dumps(payload).encode("utf-8"), _time(payload)
    except (ValueError, UnicodeError, RecursionError) as error:
        raise NotCanonical(f"the stored payload is not JSON: {error}") from None


def _quick(state: bytes) -> tuple[bytes, str] | None:
    """`canonical` by orjson, about three times faster; None where orjson refuses the payload.

    The bytes are the documented ones for everything the transcoder writes (objects, strings,
    booleans, null, 64-bit integers: the unit tests compare both on tricky strings), not for floats
    or wider integers (`1e-05` is `0.00001` there). So only verification uses it, and an entry whose
    quick hash is not the sealed one is hashed again from the documented form (`entry_hash`) before it
    counts as broken.
    """
    try:
        payload = orjson.loads(state)
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS), _time(payload)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None


def entry_hash_of(previous: str, position: int, originator_id: Any, version: int, topic: str, time: str,
                  payload_sha256: str) -> str:
    """The hash of one entry from its payload's digest and time (see the module's text): what an export's
    redacted line gives instead of the payload."""
    # Each field framed as its length (8 bytes, big-endian) and its bytes; written out, as this runs per event.
    a, b, c, d = previous.encode("ascii"), b"%d" % position, str(originator_id).encode("ascii"), b"%d" % version
    e, f, g = topic.encode("utf-8"), time.encode("utf-8"), payload_sha256.encode("ascii")
    return sha256(b"".join((_length(len(a)), a, _length(len(b)), b, _length(len(c)), c, _length(len(d)), d,
                            _length(len(e)), e, _length(len(f)), f, _length(len(g)), g))).hexdigest()


def read_payload(state: bytes) -> tuple[Any, str, str]:
    """The stored `state` bytes parsed, with the SHA-256 (hex) of their canonical payload and the event's time."""
    try:
        payload = _loads(state.decode("utf-8"))
        # Encoding may fail too: a lone surrogate escape (`"\ud800"`) parses but is not UTF-8.
        return payload, sha256(_dumps(payload).encode("utf-8")).hexdigest(), _time(payload)
    except (ValueError, UnicodeError, RecursionError) as error:
        raise NotCanonical(f"the stored payload is not JSON: {error}") from None


def entry_hash(previous: str, position: int, originator_id: Any, version: int, topic: str, state: bytes) -> str:
    """The hash of one entry (see the module's text); `state` is the stored bytes, not yet canonical."""
    _payload, digest, time = read_payload(state)
    return entry_hash_of(previous, position, originator_id, version, topic, time, digest)
