"""The orjson codec (domain/stored_json.py) writes and reads the bytes the library's `JSONTranscoder` does.

Both ways: every event and snapshot of tests/fixtures/stored-events.db (written by the library's transcoder)
reads as the library reads it and is written again to the same bytes; every event the application writes
today (every scene of the fixture's writer, personal data encrypted) reads alike with the library's
transcoder and mapper. Then awkward values, generated: the same bytes written, the same objects read, or
the same error raised.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from contextlib import closing
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import SecretariatApplication
from domain.calendar import BusinessCalendar
from domain.personal_data import PersonalData
from domain.stored_json import OrjsonTranscoder, ResolvedTopicsMapper
from personal_data.cipher import EncryptedPersonalData
from personal_data.keys import MemoryPersonalKeys
from tests.conftest import make_service
from tests.fixtures.write_stored_events import FIXTURE, SCENES, START, Scene


def library_twin(app: SecretariatApplication) -> tuple[JSONTranscoder, Mapper]:
    """The library's own transcoder and mapper with the application's transcodings (personal data's too)."""
    transcoder = JSONTranscoder()
    app.register_transcodings(transcoder)
    return transcoder, Mapper(transcoder)


def typed(value: Any) -> Any:
    """A value as nested tuples that differ wherever the values differ in type, order or form: `==` alone
    would take 1 for Decimal("1.0"), and two datetimes at the same instant in other zones, as equal."""
    if isinstance(value, PersonalData):
        return PersonalData, value.subject, typed(value.stored), value.value
    if isinstance(value, dict):
        return type(value), tuple((typed(k), typed(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value), tuple(typed(v) for v in value)
    return type(value), repr(value)


def typed_event(event: Any) -> Any:
    return type(event), typed(vars(event))


def outcome(function: Callable[[Any], Any], argument: Any) -> Any:
    """What a call gives: its result (typed), or its error's type and message."""
    try:
        return "returned", typed(function(argument))
    except Exception as error:  # noqa: BLE001 - the point is to compare any error
        return "raised", type(error), str(error)


# The events in the log's order (a rowid is a position); the snapshot table has no rowid.
ORDER = {"stored_events": "rowid", "stored_snapshots": "originator_id, originator_version"}


def rows(path: Path, table: str) -> list[StoredEvent]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return [StoredEvent(UUID(oid), version, topic, state) for oid, version, topic, state in conn.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {table} ORDER BY {ORDER[table]}")]


@pytest.fixture
def app(hasher, clock) -> SecretariatApplication:
    return make_service({"PERSISTENCE_MODULE": "eventsourcing.popo"}, hasher, clock)


def test_the_application_stores_through_the_orjson_codec(app):
    assert isinstance(app.mapper, ResolvedTopicsMapper)
    assert isinstance(app.mapper.transcoder, OrjsonTranscoder)


@pytest.mark.parametrize("table", ["stored_events", "stored_snapshots"])
def test_what_the_library_wrote_reads_the_same_and_is_written_again_to_the_same_bytes(app, table):
    library, library_mapper = library_twin(app)
    ours = app.mapper.transcoder
    stored = rows(FIXTURE, table)
    assert len(stored) > 80 if table == "stored_events" else len(stored) == 2
    for event in stored:
        read = ours.decode(event.state)
        assert typed(read) == typed(library.decode(event.state)), event.topic
        assert library.encode(read) == event.state, event.topic  # (the fixture is the library's own writing)
        assert ours.encode(read) == event.state, event.topic
        domain_event = app.mapper.to_domain_event(event)
        assert typed_event(domain_event) == typed_event(library_mapper.to_domain_event(event)), event.topic
        assert app.mapper.to_stored_event(domain_event) == library_mapper.to_stored_event(domain_event)


def test_what_the_application_writes_today_the_library_reads_alike(tmp_path, hasher):
    """Every scene of the fixture's writer (every event class, snapshots, encrypted personal data), stored by
    today's application; read back by the library's transcoder and mapper, and by an application that has them."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "today.db")}
    clock = [START]
    keys = MemoryPersonalKeys()
    personal = EncryptedPersonalData(keys)

    def application(cls: type[SecretariatApplication], **kw: Any) -> SecretariatApplication:
        return cls(env, hasher=hasher, clock=lambda: clock[0], calendar=BusinessCalendar(), personal_data=personal,
                   **kw)

    app = application(SecretariatApplication, personal_keys=keys)
    try:
        for scene in SCENES.values():
            scene(Scene(app, clock))
    finally:
        app.close()
    ours, with_library = application(SecretariatApplication), application(LibraryCodecApplication)
    try:
        assert type(with_library.mapper) is Mapper and type(with_library.mapper.transcoder) is JSONTranscoder
        library, library_mapper = with_library.mapper.transcoder, with_library.mapper
        stored = rows(Path(env["SQLITE_DBNAME"]), "stored_events")
        snapshots = rows(Path(env["SQLITE_DBNAME"]), "stored_snapshots")
        assert snapshots and any(b'"_type_":"personal"' in event.state for event in stored)  # encrypted
        for event in stored + snapshots:
            read = library.decode(event.state)
            assert typed(read) == typed(ours.mapper.transcoder.decode(event.state)), event.topic
            assert library.encode(read) == event.state, event.topic
            assert typed_event(library_mapper.to_domain_event(event)) == typed_event(
                ours.mapper.to_domain_event(event)), event.topic
        for oid in dict.fromkeys(event.originator_id for event in stored):
            assert typed(vars(with_library.repository.get(oid))) == typed(vars(ours.repository.get(oid))), oid
    finally:
        ours.close()
        with_library.close()


class LibraryCodecApplication(SecretariatApplication):
    """The application as it was before the orjson codec: the library's transcoder and mapper."""

    construct_mapper = Application.construct_mapper
    construct_transcoder = Application.construct_transcoder


# -- awkward values ---------------------------------------------------------------------------------------

class Colour(str, enum.Enum):
    RED = "red"


class Size(enum.IntEnum):
    BIG = 3


class Label(str):
    pass


AWKWARD_STRINGS = ["", "é", "žabe in čaplje", "😀", "\u2028\u2029", "\x00\x1f\x7f", '"\\/', "\ud800", "\t\n\r\b\f",
                   '{"_type_":"date_iso","_data_":"2026-11-23"}', "_type_", "_data_", "NaN", "1e400"]

ZONES = [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3)),
         timezone(timedelta(seconds=-1)), None]


def lookalikes(children: st.SearchStrategy) -> st.SearchStrategy:
    """Dicts shaped like the transcoder's own `{"_type_", "_data_"}`, with known, unknown and odd names."""
    names = st.sampled_from(["date_iso", "datetime_iso", "uuid_hex", "decimal_str", "personal_plain", "nope", ""])
    return st.one_of(
        st.builds(lambda n, d: {"_type_": n, "_data_": d}, names, children),
        st.builds(lambda n, d: {"_data_": d, "_type_": n}, names, children),
        st.builds(lambda n, d: {"_type_": n, "_data_": d, "extra": 1}, names, children),
        st.builds(lambda d: {"_type_": d}, children))


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2 ** 63) - 2, max_value=2 ** 64 + 2),
    st.sampled_from([2 ** 63 - 1, -(2 ** 63), 2 ** 64 - 1, 2 ** 64, -(2 ** 63) - 1, 10 ** 30]),
    st.floats(), st.text(), st.sampled_from(AWKWARD_STRINGS),
    st.dates(), st.datetimes(timezones=st.sampled_from(ZONES)), st.times(), st.decimals(), st.uuids(),
    st.builds(PersonalData, st.text(max_size=5), st.text(max_size=5) | st.none()),
    st.sampled_from([Colour.RED, Size.BIG, Label("label"), object(), {1: "a"}, {Label("k"): 1}, b"bytes"]))

values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.lists(children, max_size=4).map(tuple),
    st.dictionaries(st.text(max_size=4) | st.sampled_from(AWKWARD_STRINGS), children, max_size=4),
    lookalikes(children)), max_leaves=20)


@pytest.fixture(scope="module")
def codecs(hasher) -> tuple[JSONTranscoder, OrjsonTranscoder]:
    """Both transcoders with the application's transcodings (personal data in the clear, which writes the same
    bytes every time: the encrypted one draws a fresh nonce, and is covered above)."""
    app = SecretariatApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, hasher=hasher)
    library, _mapper = library_twin(app)
    return library, app.mapper.transcoder


def written_and_read_alike(library: JSONTranscoder, ours: OrjsonTranscoder, value: Any) -> None:
    """Ours writes `value` as the library does (the same bytes, or the same error), and reads those bytes back
    as the library does."""
    written = outcome(library.encode, value)
    assert outcome(ours.encode, value) == written
    if written[0] == "returned":
        stored = library.encode(value)
        assert outcome(ours.decode, stored) == outcome(library.decode, stored)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_any_value_is_written_as_the_library_writes_it_and_read_back_as_the_library_reads_it(codecs, value):
    written_and_read_alike(*codecs, value)


@settings(max_examples=300, deadline=None)
@given(document=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.sampled_from(AWKWARD_STRINGS),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    | lookalikes(children), max_leaves=20))
def test_any_json_document_is_read_as_the_library_reads_it(codecs, document):
    library, ours = codecs
    text = json.dumps(document, ensure_ascii=False)  # NaN and Infinity too, as `json` writes them
    # A lone surrogate as itself is not UTF-8 (both must refuse it), escaped (`\\ud800`) it is.
    for stored in (text.encode("utf-8", "surrogatepass"), json.dumps(document).encode("ascii")):
        assert outcome(ours.decode, stored) == outcome(library.decode, stored)


@pytest.mark.parametrize("stored", [
    b"123456789012345678901234567890", b'{"n":-9223372036854775809}', b"[18446744073709551616]",
    b"[18446744073709551615, -9223372036854775808]", b"NaN", b"[Infinity, -Infinity]", b"1e400", b"-0", b"-0.0",
    b'{"a":1,"a":2}', b'{"_type_":"date_iso","_data_":"2026-02-30"}', b'{"_type_":"nope","_data_":1}',
    b'{"_type_":["date_iso"],"_data_":1}', b'{"_type_":1,"_data_":1}', b'{"_type_":"uuid_hex","_data_":7}',
    b'{"_type_":"datetime_iso","_data_":null}', b'{"_type_":"decimal_str","_data_":"1E+3"}',
    b'{"_type_":"date_iso","_data_":{"_type_":"date_iso","_data_":"2026-11-23"}}', b'"\\ud800"', b'"\xff"',
    b"\xef\xbb\xbf{}", b"", b" [1] ", b"[1,]", b"{} {}", b"[" * 1100 + b"]" * 1100, b"[" * 3000 + b"]" * 3000,
    b'{"x":' * 600 + b"1" + b"}" * 600])
def test_awkward_stored_bytes_are_read_as_the_library_reads_them(codecs, stored):
    library, ours = codecs
    assert outcome(ours.decode, stored) == outcome(library.decode, stored)


def nested(depth: int) -> Any:
    value: Any = date(2026, 11, 23)
    for level in range(depth):
        value = [value] if level % 2 else {"d": value}
    return value


def circular() -> list:
    loop: list = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize("value", [
    nested(200), nested(300), nested(5000), circular(), {"a": [1.5, 1e16, 1e-07, float("nan"), float("inf")]},
    {"when": datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=1))), "at": time(9, 30),
     "tz": datetime(2026, 11, 23, 9, tzinfo=timezone.utc).astimezone(timezone(timedelta(hours=-9, minutes=-30)))},
    {"amount": Decimal("12000.50"), "tiny": Decimal("-0E-7"), "nan": Decimal("NaN"), "inf": Decimal("-Infinity")},
    {"id": UUID(int=0), "ids": (UUID(int=2 ** 128 - 1),), "empty": {}, "none": [], "nothing": ()},
    {"personal": PersonalData("sara", "sara@example.org"), "erased": PersonalData.erased_for("alba")},
    ["x"] * 3 + [{"_type_": "uuid_hex", "_data_": "0" * 32}], {"ok": "fine", "bad": "\udc80"}])
def test_awkward_values_are_written_and_read_as_the_library_does(codecs, value):
    written_and_read_alike(*codecs, value)


def test_a_registered_subclass_of_a_json_type_is_written_as_that_type_as_the_library_does(codecs):
    """`json` never asks its hook about a str (or int, list, dict) subclass: registering one changes nothing."""

    class LabelAsUpper:
        type = Label
        name = "label_upper"

        def encode(self, obj: Label) -> str:
            return obj.upper()

        def decode(self, data: str) -> Label:
            return Label(data.lower())

    library, ours = JSONTranscoder(), OrjsonTranscoder()
    for transcoder in (library, ours):
        transcoder.register(LabelAsUpper())  # type: ignore[arg-type]
    assert ours.encode({"l": Label("x")}) == library.encode({"l": Label("x")}) == b'{"l":"x"}'
