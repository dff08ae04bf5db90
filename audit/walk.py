"""The one walker of the audit chain: stored events against their seals, entry by entry.

Verifying the store (`verify_entries`), writing an export bundle (audit.export) and checking a bundle offline
(audit.bundle_check) all walk the chain the same way: pair the n-th event with the n-th seal, recompute the
event's entry hash from the previous hash, and compare it with the sealed one. `walk` yields each entry that
agrees with its seal and stops at the first disagreement, which it yields too; what a caller adds (a bundle's
line numbers and links, an export's files) it checks on what the walker hands it.

An event is `(position, originator_id, version, topic, state)`: `state` is the stored bytes (or a bundle line's
text of them), or `Digest(time,
payload_sha256)` for an event whose payload is not shown (a redacted line of a bundle). A seal is
`(position, hash, originator_id, version, ...)`; `originator_id` and `version` may be None (a bundle's chain
lines do not repeat them), and a seal of six fields or more states its own previous hash as its sixth (a bundle's
line does, so a subset's entries recompute without the entries left out); otherwise the entry chains on the
one before it, from 64 zeros.
"""

from __future__ import annotations

from hashlib import sha256
from itertools import zip_longest
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import orjson

from audit.chain import GENESIS, NotCanonical, _quick, entry_hash_of, read_payload

# One stored event: (position, originator_id, originator_version, topic, state bytes or Digest).
Stored = tuple[int, Any, int, str, Any]
# One sealed entry: (position, hash, originator_id, originator_version[, seq[, previous]]).
Sealed = tuple


class Digest(NamedTuple):
    """What the chain needs of a payload that is not shown: its time and the SHA-256 of its canonical form."""

    time: str
    payload_sha256: str


# An event that agrees with its seal, yielded as a plain tuple (one per event of the log: no object made), to
# unpack: (event, seal, previous hash, its hash as recomputed, time, payload digest, payload or None: the
# parsed payload only when asked for with `payloads=True`).
Entry = tuple[Stored, Sealed, str, str, str, str, Any]


# Why an event and its seal disagree (Disagreement.kind).
MISSING = "missing"        # a sealed position the events no longer have (deleted, moved); `event` may be None
UNSEALED = "unsealed"      # an event no seal covers (inserted, or recorded after the last seal); `seal` may be None
UNREADABLE = "unreadable"  # the stored payload is not JSON, or a field is not of its type
REPLACED = "replaced"      # another item's event (or another version) than the one sealed at its position
CHANGED = "changed"        # the entry does not recompute to the sealed hash (payload, type or time changed)


class Disagreement(NamedTuple):
    """Where the events and the seals first part: the walk's last step (its kind says how, above)."""

    kind: str
    position: int
    event: Stored | None
    seal: Sealed | None
    error: Exception | None = None  # why an unreadable event could not be read
    computed: str = ""  # the hash the event recomputed to (CHANGED, REPLACED)


def walk(events: Iterable[Stored], seals: Iterable[Sealed], *, payloads: bool = False
         ) -> Iterator[Entry | Disagreement]:
    """Each event with its seal, in order, until the first disagreement (yielded last); see the module's text.

    A shown payload is read by orjson first (`_quick`), and where that is not the sealed hash by the documented
    form, which decides. This runs once per event of the log, so its steps are written out in the loop."""
    previous = GENESIS
    quick_form, hash_of, digest_of = _quick, entry_hash_of, sha256  # looked up once, not per event
    # Until the first disagreement both walk the same positions, so they are walked in step.
    for event, seal in zip_longest(events, seals):
        if event is None or (seal is not None and seal[0] < event[0]):
            yield Disagreement(MISSING, seal[0], event, seal)
            return
        position, originator_id, version, topic, state = event
        if seal is None or position < seal[0]:
            yield Disagreement(UNSEALED, position, event, seal)
            return
        if len(seal) > 5:  # the seal states its previous hash
            previous = seal[5]
        sealed, payload = seal[1], None
        try:
            if type(state) is Digest:
                time, digest = state
                computed = entry_hash_of(previous, position, originator_id, version, topic, time, digest)
            else:
                if type(state) is not bytes:  # a bundle line's text of the stored bytes
                    state = state.encode("utf-8")
                quick = quick_form(state)
                if quick is not None:
                    time, digest = quick[1], digest_of(quick[0]).hexdigest()
                    computed = hash_of(previous, position, originator_id, version, topic, time, digest)
                    if payloads and computed == sealed:  # orjson's form is the sealed one: so is its reading
                        payload = orjson.loads(state)
                if quick is None or computed != sealed:
                    payload, digest, time = read_payload(state)
                    computed = entry_hash_of(previous, position, originator_id, version, topic, time, digest)
        # NotCanonical, or a column holding another type (SQLite allows it)
        except (NotCanonical, TypeError, ValueError, AttributeError) as error:
            yield Disagreement(UNREADABLE, position, event, seal, error)
            return
        if computed != sealed:
            replaced = seal[2] is not None and (str(originator_id), str(version)) != (str(seal[2]), str(seal[3]))
            yield Disagreement(REPLACED if replaced else CHANGED, position, event, seal, computed=computed)
            return
        yield event, seal, previous, computed, time, digest, payload
        previous = computed


def verify_entries(stored: Iterable[Stored], sealed: Iterable[Sealed],
                   progress: Callable[[int], None] | None = None, every: int = 10_000) -> dict[str, Any]:
    """Recompute the chain from the stored events and compare it, entry by entry, with the sealed one.

    The first disagreement is reported: a sealed position that the log no longer has (a deleted event),
    a stored event the seal does not have (an inserted one, or one recorded after the last seal), an event
    that is not the one sealed at its position (reordered or replaced) or whose hash differs (a changed
    payload, time or type). Returns {"ok": True, "events": N, "head": hash} or {"ok": False, "events": N (the
    entries that verified before it), "broken_at": position, "reason": "..."}.
    """
    return verified(walk(stored, sealed), progress, every)


def verified(steps: Iterable[Entry | Disagreement], progress: Callable[[int], None] | None = None,
             every: int = 10_000) -> dict[str, Any]:
    """What a walk found, as `verify_entries` reports it."""
    step, count, disagreement = None, 0, Disagreement
    for step in steps:
        if type(step) is disagreement:
            return {"ok": False, "events": count, "broken_at": step.position, "reason": _reason(step)}
        count += 1
        if progress and count % every == 0:
            progress(every)
    if progress and count % every:
        progress(count % every)
    return {"ok": True, "events": count, "head": step[3] if count else GENESIS}


def _reason(step: Disagreement) -> str:
    position, seal, event = step.position, step.seal, step.event
    if step.kind == MISSING:
        return (f"the event sealed at position {position} ({seal[2]} v{seal[3]}) is missing from the log (deleted "
                f"or moved)")
    if step.kind == UNSEALED:
        return f"the event at position {position} is not sealed (inserted, or recorded after the last seal)"
    if step.kind == UNREADABLE:
        if isinstance(step.error, NotCanonical):
            return str(step.error)
        return f"the event at position {position} cannot be read: {step.error!r}"
    if step.kind == REPLACED:
        return (f"the event at position {position} is {event[1]} v{event[2]}, but {seal[2]} v{seal[3]} was sealed "
                f"there (reordered or replaced)")
    return (f"the event at position {position} does not match its seal (its payload, type or time changed, or "
            f"the seal did)")
