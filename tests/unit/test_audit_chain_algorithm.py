"""The hash chain's documented algorithm, pinned by fixed vectors (an outside tool must get the same hashes)."""

from __future__ import annotations

import hashlib
import json
import struct

import pytest

from audit.chain import GENESIS, NotCanonical, _quick, canonical, entry_hash, entry_hash_of, read_payload
from audit.walk import CHANGED, MISSING, Digest, Disagreement, verify_entries, walk

ITEM = "6ba36e32-34f3-5c86-9dae-c11f660b68aa"
STORED = ('{"timestamp": {"_type_":"datetime_iso","_data_":"2026-11-23T09:00:00+00:00"}, '
          '"title":"Sofia — über", "b":[1,{"z":null,"a":true}],"a":"line\\nbreak"}').encode()
CANONICAL = ('{"a":"line\\nbreak","b":[1,{"a":true,"z":null}],'
             '"timestamp":{"_data_":"2026-11-23T09:00:00+00:00","_type_":"datetime_iso"},'
             '"title":"Sofia — über"}').encode()
TIME = "2026-11-23T09:00:00+00:00"
PAYLOAD_SHA256 = "44b5443e5efe2eedc046d22cc33a717cae4aeb32efaf7af1b4370be4afb1af33"  # of CANONICAL
FIRST = "347fb3da509ca980f76ade6997b3d368ef41146bfa5a122b5a44c7ee2ab9c882"
SECOND = "4db7ac911c1704d6a041be02f599b84ad7f7a9c8cd6f714a43030597cd740d6d"


def test_the_canonical_payload_sorts_keys_drops_whitespace_and_keeps_unicode_as_utf8():
    assert canonical(STORED) == (CANONICAL, "2026-11-23T09:00:00+00:00")


def _framed(*fields: bytes) -> bytes:
    return b"".join(struct.pack(">Q", len(f)) + f for f in fields)


def test_the_entry_hash_is_sha256_over_length_framed_fields_ending_with_the_payload_digest_as_documented():
    digest = hashlib.sha256(CANONICAL).hexdigest()
    assert digest == PAYLOAD_SHA256 and read_payload(STORED)[1:] == (PAYLOAD_SHA256, TIME)
    by_hand = hashlib.sha256(_framed(b"0" * 64, b"1", ITEM.encode(), b"1", b"domain.task:Task.Created",
                                     TIME.encode(), digest.encode())).hexdigest()
    assert entry_hash(GENESIS, 1, ITEM, 1, "domain.task:Task.Created", STORED) == by_hand == FIRST
    second = hashlib.sha256(_framed(FIRST.encode(), b"2", ITEM.encode(), b"2", b"domain.task:Task.Started",
                                    TIME.encode(), digest.encode())).hexdigest()
    assert entry_hash(FIRST, 2, ITEM, 2, "domain.task:Task.Started", STORED) == second == SECOND


def test_an_entry_recomputes_from_its_payload_digest_and_time_alone():
    """What an export's redacted line gives: the digest and the time stand for the payload."""
    assert entry_hash_of(GENESIS, 1, ITEM, 1, "domain.task:Task.Created", TIME, PAYLOAD_SHA256) == FIRST
    assert entry_hash_of(FIRST, 2, ITEM, 2, "domain.task:Task.Started", TIME, PAYLOAD_SHA256) == SECOND
    other = hashlib.sha256(CANONICAL + b" ").hexdigest()
    assert entry_hash_of(GENESIS, 1, ITEM, 1, "domain.task:Task.Created", TIME, other) != FIRST
    assert entry_hash_of(GENESIS, 1, ITEM, 1, "domain.task:Task.Created", "", PAYLOAD_SHA256) != FIRST


def test_an_event_without_a_timestamp_hashes_an_empty_time():
    assert canonical(b'{"b": 1}') == (b'{"b":1}', "")


def test_verify_entries_reports_ok_and_the_head_or_the_first_broken_position():
    stored = [(1, ITEM, 1, "domain.task:Task.Created", STORED), (2, ITEM, 2, "domain.task:Task.Started", STORED)]
    sealed = [(1, FIRST, ITEM, 1), (2, SECOND, ITEM, 2)]
    assert verify_entries(stored, sealed) == {"ok": True, "events": 2, "head": SECOND}
    assert verify_entries(stored[:1], sealed)["broken_at"] == 2  # deleted
    assert verify_entries(stored, sealed[:1])["broken_at"] == 2  # not sealed
    assert verify_entries([stored[0], (2, ITEM, 2, "x", b"not json")], sealed)["broken_at"] == 2
    assert verify_entries([], []) == {"ok": True, "events": 0, "head": GENESIS}


def test_the_one_walker_yields_each_agreeing_entry_and_stops_at_the_first_disagreement():
    stored = [(1, ITEM, 1, "domain.task:Task.Created", STORED), (2, ITEM, 2, "domain.task:Task.Started", STORED)]
    sealed = [(1, FIRST, ITEM, 1), (2, SECOND, ITEM, 2)]
    first, second = walk(stored, sealed)
    assert first[:6] == (stored[0], sealed[0], GENESIS, FIRST, TIME, PAYLOAD_SHA256) and second[2:4] == (FIRST, SECOND)
    # A payload left out (a redacted line) recomputes from its digest and time; a seal may state its previous hash.
    [redacted] = walk([(2, ITEM, 2, "domain.task:Task.Started", Digest(TIME, PAYLOAD_SHA256))],
                      [(2, SECOND, None, None, 2, FIRST)])
    assert redacted[3] == SECOND
    *agreeing, broken = walk(stored, [(1, FIRST, ITEM, 1), (2, FIRST, ITEM, 2), (3, SECOND, ITEM, 3)])
    assert len(agreeing) == 1 and type(broken) is Disagreement and (broken.kind, broken.position) == (CHANGED, 2)
    assert [step.kind for step in walk(stored[:1], sealed) if type(step) is Disagreement] == [MISSING]


# What the transcoder may write (json.dumps, ensure_ascii=False, keys in any order), made hard to canonicalise.
TRICKY = {
    "controls": "".join(map(chr, range(0x20))) + "\x7f\x80\x9f",
    "quotes": 'a "b" \\ c / d',
    "unicode": "é ü — \u2028 \u2029 \ufeff \ufffd \uffff 😀 \U0010ffff",
    "keys": {"z": 1, "Z": 2, "é": 3, "": 4, "a\x00": 5, "a": 6, "\ufffd": 7, "😀": 8, "\uffff": 9, "\U00010000": 10},
    "integers": [0, -1, 2**53 + 1, 2**63 - 1, 2**64 - 1, -(2**63)],
    "nested": [[], {}, [{"b": [True, False, None]}], {"a": {"c": {"b": "x"}}}],
}


@pytest.mark.parametrize("stored", [
    json.dumps(TRICKY, ensure_ascii=False, separators=(",", ":")).encode(),
    json.dumps(TRICKY, ensure_ascii=True, indent=1).encode(),  # \uXXXX escapes and spacing: the same meaning
    STORED,
    rb'{"s":"\/ \u00e9 \ud83d\ude00 \u001F","timestamp":{"_data_":"2026-11-23T09:00:00+00:00"}}',
])
def test_the_quick_canonical_payload_is_byte_for_byte_the_documented_one(stored):
    assert _quick(stored) == canonical(stored)


def test_where_orjson_writes_other_bytes_the_documented_form_decides():
    """Floats and integers wider than 64 bits (which the transcoder does not write) come out otherwise from
    orjson; an entry sealed by the documented form still verifies, as an outside tool would find."""
    for stored in (b'{"n":1e-5}', b'{"n":18446744073709551616}', b'{"n":NaN}', b"[" * 300 + b"]" * 300):
        assert _quick(stored) != canonical(stored)
        entry = (1, ITEM, 1, "domain.task:Task.Created", stored)
        digest = entry_hash(GENESIS, *entry)
        assert verify_entries([entry], [(1, digest, ITEM, 1)]) == {"ok": True, "events": 1, "head": digest}


def test_a_payload_without_a_canonical_form_is_reported_not_raised():
    for stored in (b'{"s":"\\ud800"}', b'{"s":"\xed\xa0\x80"}', b"\xff", b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(NotCanonical):
            canonical(stored)
        result = verify_entries([(1, ITEM, 1, "x", stored)], [(1, FIRST, ITEM, 1)])
        assert (result["ok"], result["broken_at"]) == (False, 1) and "not JSON" in result["reason"]
    result = verify_entries([(1, ITEM, "one", "x", STORED)], [(1, FIRST, ITEM, 1)])  # a version stored as text
    assert (result["ok"], result["broken_at"]) == (False, 1) and "cannot be read" in result["reason"]
