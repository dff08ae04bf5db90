"""The hash chain's documented algorithm, pinned by fixed vectors (an outside tool must get the same hashes)."""

from __future__ import annotations

import hashlib
import struct

from projections.chain import GENESIS, canonical, entry_hash, verify_entries

ITEM = "6ba36e32-34f3-5c86-9dae-c11f660b68aa"
STORED = ('{"timestamp": {"_type_":"datetime_iso","_data_":"2026-11-23T09:00:00+00:00"}, '
          '"title":"Sofia — über", "b":[1,{"z":null,"a":true}],"a":"line\\nbreak"}').encode()
CANONICAL = ('{"a":"line\\nbreak","b":[1,{"a":true,"z":null}],'
             '"timestamp":{"_data_":"2026-11-23T09:00:00+00:00","_type_":"datetime_iso"},'
             '"title":"Sofia — über"}').encode()
FIRST = "546903a6b148bacb06608721e80687ac7a484319bfdf1b8bbaadbb80a3f4b5b6"
SECOND = "1bf07f633e99f52179c88c17d5bbb316831ea82fb5c86ec1c4811cd417c855a5"


def test_the_canonical_payload_sorts_keys_drops_whitespace_and_keeps_unicode_as_utf8():
    assert canonical(STORED) == (CANONICAL, "2026-11-23T09:00:00+00:00")


def test_the_entry_hash_is_sha256_over_length_framed_fields_as_documented():
    def framed(*fields: bytes) -> bytes:
        return b"".join(struct.pack(">Q", len(f)) + f for f in fields)

    by_hand = hashlib.sha256(framed(b"0" * 64, b"1", ITEM.encode(), b"1", b"domain.task:Task.Created",
                                    b"2026-11-23T09:00:00+00:00", CANONICAL)).hexdigest()
    assert entry_hash(GENESIS, 1, ITEM, 1, "domain.task:Task.Created", STORED) == by_hand == FIRST
    assert entry_hash(FIRST, 2, ITEM, 2, "domain.task:Task.Started", STORED) == SECOND


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
