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

Time
    The event's own timestamp as stored in the payload: the string `state["timestamp"]["_data_"]`
    (ISO 8601, e.g. `2026-11-23T09:00:00+00:00`); the empty string if the payload has none.

Entry hash
    Lower-case hex SHA-256 over seven fields, in this order, each framed as its length in bytes
    (8-byte unsigned big-endian) followed by the bytes themselves, so that no two different
    entries frame to the same bytes:

    1. the previous entry's hash, as its 64 ASCII hex characters (the first entry: 64 zeros),
    2. the position in the notification log, ASCII decimal,
    3. the originator (item) id, the UUID's canonical lower-case hyphenated ASCII form,
    4. the originator version, ASCII decimal,
    5. the topic (the event's type, e.g. `domain.task:Task.Started`), UTF-8,
    6. the time (above), UTF-8,
    7. the canonical payload (above).

The chain's head is the last entry's hash; its length is the number of entries.
"""

from __future__ import annotations

import json
import struct
from hashlib import sha256
from typing import Any, Callable, Iterable, Iterator

GENESIS = "0" * 64
_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_dumps = _encoder.encode
_loads = json.JSONDecoder().decode
_length = struct.Struct(">Q").pack


class NotCanonical(ValueError):
    """The stored payload is not JSON (so not what the transcoder wrote)."""


def canonical(state: bytes) -> tuple[bytes, str]:
    """The canonical payload of stored `state` bytes, and the event's time from it."""
    try:
        payload = _loads(state.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise NotCanonical(f"the stored payload is not JSON: {error}") from None
    stamp = payload.get("timestamp") if isinstance(payload, dict) else None
    time = stamp.get("_data_", "") if isinstance(stamp, dict) else ""
    return _dumps(payload).encode("utf-8"), time if isinstance(time, str) else str(time)


def entry_hash(previous: str, position: int, originator_id: Any, version: int, topic: str, state: bytes) -> str:
    """The hash of one entry (see the module's text); `state` is the stored bytes, not yet canonical."""
    payload, time = canonical(state)
    # Each field framed as its length (8 bytes, big-endian) and its bytes; written out, as this runs per event.
    a, b, c, d = previous.encode("ascii"), b"%d" % position, str(originator_id).encode("ascii"), b"%d" % version
    e, f = topic.encode("utf-8"), time.encode("utf-8")
    return sha256(b"".join((_length(len(a)), a, _length(len(b)), b, _length(len(c)), c, _length(len(d)), d,
                            _length(len(e)), e, _length(len(f)), f, _length(len(payload)), payload))).hexdigest()


# One stored event: (position, originator_id, originator_version, topic, state bytes).
Stored = tuple[int, Any, int, str, bytes]
# One sealed entry: (position, hash, originator_id, originator_version).
Sealed = tuple[int, str, Any, int]


def chain(entries: Iterable[Stored], previous: str = GENESIS) -> Iterator[tuple[int, str]]:
    """(position, hash) of each stored event in turn, chained from `previous`."""
    for position, originator_id, version, topic, state in entries:
        previous = entry_hash(previous, position, originator_id, version, topic, state)
        yield position, previous


def verify_entries(stored: Iterable[Stored], sealed: Iterable[Sealed],
                   progress: Callable[[int], None] | None = None, every: int = 10_000) -> dict[str, Any]:
    """Recompute the chain from the stored events and compare it, entry by entry, with the sealed one.

    Both are walked in position order. The first disagreement is reported: a sealed position
    that the log no longer has (a deleted event), a stored event the seal does not have (an
    inserted one, or one recorded after the last seal), an event that is not the one sealed at its
    position (reordered or replaced) or whose hash differs (a changed payload, time or type).
    Returns {"ok": True, "events": N, "head": hash} or {"ok": False, "events": N (the entries that
    verified before it), "broken_at": position, "reason": "..."}.
    """
    stored_it, sealed_it = iter(stored), iter(sealed)
    previous, count = GENESIS, 0
    entry = next(stored_it, None)
    seal = next(sealed_it, None)

    def broken(position: int, reason: str) -> dict[str, Any]:
        return {"ok": False, "events": count, "broken_at": position, "reason": reason}

    while entry is not None or seal is not None:
        if entry is None or (seal is not None and seal[0] < entry[0]):
            return broken(seal[0], f"the event sealed at position {seal[0]} ({seal[2]} v{seal[3]}) is missing "
                                   f"from the log (deleted or moved)")
        position, originator_id, version, topic, state = entry
        if seal is None or position < seal[0]:
            return broken(position, f"the event at position {position} is not sealed (inserted, or recorded "
                                    f"after the last seal)")
        try:
            computed = entry_hash(previous, position, originator_id, version, topic, state)
        except NotCanonical as error:
            return broken(position, str(error))
        if computed != seal[1]:
            if (str(originator_id), int(version)) != (str(seal[2]), int(seal[3])):
                return broken(position, f"the event at position {position} is {originator_id} v{version}, but "
                                        f"{seal[2]} v{seal[3]} was sealed there (reordered or replaced)")
            return broken(position, f"the event at position {position} does not match its seal (its payload, "
                                    f"type or time changed, or the seal did)")
        previous, count = computed, count + 1
        if progress and count % every == 0:
            progress(every)
        entry = next(stored_it, None)
        seal = next(sealed_it, None)
    if progress and count % every:
        progress(count % every)
    return {"ok": True, "events": count, "head": previous}
