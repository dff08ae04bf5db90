"""Events stored in the bytes of before `occurred_at` read today as they read then, on both stores (issue 13).

tests/fixtures/stored-events.db was written by the code of 883e6a6 (see tests/fixtures/write_stored_events.py):
events of every event class of every aggregate, two snapshots and the audit chain's seal over them; and
stored-events.json is how that code read every aggregate. Here the code of today reads a copy of the file,
and the same rows copied byte for byte into a fresh PostgreSQL schema: every event decodes (its `occurred_at`
is its timestamp, by `upcast_v1_v2`), every aggregate and snapshot reads as it did, and `secretariat audit
verify` finds the chain whole. A new event class fails the last test until its bytes are appended.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any, Callable, Iterator
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import MetaData, create_engine

from domain.application import SecretariatApplication
from domain.item import WorkflowItem
from tests.conftest import POSTGRES, make_service
from tests.fixtures.write_stored_events import EXPECTED, FIXTURE, event_topics, reading

SECRETARIAT = Path(sys.executable).parent / "secretariat"

# Event classes added after the fixture was written: their rows were appended by `write_stored_events.py
# append <scene>` in the bytes of the code of their day, not of 883e6a6. Name each with the change that added it.
ADDED_AFTER_THE_FIXTURE: dict[str, str] = {}

# Attributes aggregates have gained since the fixture was written: (class, attribute, what an aggregate read
# from the old bytes must hold in it, given its other attributes).
GAINED: list[tuple[type, str, Callable[[dict[str, Any]], Any]]] = [
    (WorkflowItem, "occurred_on", lambda attributes: attributes["_modified_on"]),  # effective time (issue 13)
]

EVENT_STORE_TABLES = ("stored_events", "stored_snapshots", "sqlite_sequence")


# The events in the log's order (a rowid is a position); the snapshot table has no rowid.
ORDER = {"stored_events": "rowid", "stored_snapshots": "originator_id, originator_version"}


def fixture_rows(table: str) -> list[tuple[str, int, str, bytes]]:
    with closing(sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True)) as conn:
        return conn.execute(f"SELECT originator_id, originator_version, topic, state FROM {table} "
                            f"ORDER BY {ORDER[table]}").fetchall()


def expected() -> dict[str, Any]:
    return json.loads(EXPECTED.read_text())


class CopiedStore:
    """The fixture's rows in a store of one kind: the application's settings and the CLI's database URL."""

    def __init__(self, env: dict[str, str], url: str, folder: Path) -> None:
        self.env, self.url, self.folder = env, url, folder


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> CopiedStore:
    if request.param == "sqlite":
        path = tmp_path / "secretariat.db"
        shutil.copyfile(FIXTURE, path)
        return CopiedStore({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)},
                           f"sqlite:///{path}", tmp_path)
    schema = request.getfixturevalue("postgres_schema")
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": POSTGRES["dbname"],
           "POSTGRES_HOST": POSTGRES["host"], "POSTGRES_PORT": str(POSTGRES["port"]),
           "POSTGRES_USER": POSTGRES["user"], "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": schema}
    copy_into_postgres(make_service(env, request.getfixturevalue("hasher"), request.getfixturevalue("clock")), schema)
    return CopiedStore(env, f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/"
                            f"{POSTGRES['dbname']}?schema={schema}", tmp_path)


def copy_into_postgres(app: SecretariatApplication, schema: str) -> None:
    """The fixture's events and snapshots through the store's own recorders (its own table layout), in one
    transaction each so that every event keeps its position; every other table (the seal) as the fixture has it."""
    try:
        app.recorder.insert_events([StoredEvent(UUID(oid), version, topic, state)
                                    for oid, version, topic, state in fixture_rows("stored_events")])
        app.snapshots.recorder.insert_events([StoredEvent(UUID(oid), version, topic, state)
                                              for oid, version, topic, state in fixture_rows("stored_snapshots")])
    finally:
        app.close()
    source = create_engine(f"sqlite:///file:{FIXTURE}?mode=ro&uri=true")
    target = create_engine(f"postgresql+psycopg://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/"
                           f"{POSTGRES['dbname']}")
    try:
        tables = MetaData()
        tables.reflect(source)
        copies = MetaData(schema=schema)
        with source.connect() as reading_conn, target.begin() as writing:
            for table in tables.sorted_tables:
                if table.name in EVENT_STORE_TABLES:
                    continue
                copy = table.to_metadata(copies)
                copy.create(writing)
                rows = [row._asdict() for row in reading_conn.execute(table.select())]
                if rows:
                    writing.execute(copy.insert(), rows)
    finally:
        source.dispose()
        target.dispose()


@pytest.fixture
def app(store: CopiedStore, hasher, clock) -> Iterator[SecretariatApplication]:
    service = make_service(store.env, hasher, clock)
    yield service
    service.close()


def test_every_stored_event_decodes_with_todays_classes_and_occurred_when_recorded(app):
    rows = fixture_rows("stored_events")
    notifications = app.recorder.select_notifications(start=1, limit=len(rows) + 1)
    # Byte for byte, at the positions the seal hashed.
    assert [(n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state)) for n in notifications] == [
        (position, str(UUID(oid)), version, topic, state)
        for position, (oid, version, topic, state) in enumerate(rows, 1)]
    first = expected()["generations"][0]["rows"]
    for n in notifications:
        event = app.mapper.to_domain_event(n)
        assert f"{type(event).__module__}:{type(event).__qualname__}" == n.topic
        if first[0] <= n.id <= first[1]:  # the bytes of before occurred_at
            assert "occurred_at" not in json.loads(n.state), n.topic
            assert event.occurred_at == event.timestamp, n.topic


def test_every_aggregate_and_snapshot_reads_as_the_old_code_read_it(app):
    known = expected()
    for oid, then in known["aggregates"].items():
        loaded = app.repository.get(UUID(oid))  # from a snapshot where there is one
        replayed = None
        for event in app.events.get(UUID(oid)):  # from the events alone
            replayed = event.mutate(replayed)
        assert now_read(loaded) == then, oid
        assert now_read(replayed) == then, oid
    assert len(known["snapshots"]) == len(fixture_rows("stored_snapshots")) == 2
    for oid, then in known["snapshots"].items():
        snapshot = next(iter(app.snapshots.get(UUID(oid), desc=True, limit=1)))
        assert snapshot.originator_version == then["version"]
        assert now_read(snapshot.mutate(None)) == {"topic": then["topic"], "attributes": then["attributes"]}, oid


def now_read(aggregate: Any) -> dict[str, Any]:
    """The aggregate's reading today, less the attributes gained since (each checked against what it must be)."""
    read = reading(aggregate)
    for cls, name, must_be in GAINED:
        if isinstance(aggregate, cls):
            assert name in read["attributes"], (name, read["topic"])
            gained = read["attributes"].pop(name)
            assert gained == must_be(read["attributes"]), (name, read["topic"])
    return read


def test_the_audit_chain_verifies_over_them_through_the_command_line(store):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETARIAT_")}
    env.update(SECRETARIAT_DATABASE_URL=store.url, SECRETARIAT_DATA_DIR=str(store.folder / "data"))
    done = subprocess.run([str(SECRETARIAT), "audit", "verify"], env=env, cwd=store.folder, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] is True and result["events"] == len(fixture_rows("stored_events")), result


def test_the_fixture_holds_every_event_class_of_today():
    known = expected()
    stored = {topic for _oid, _version, topic, _state in fixture_rows("stored_events")}
    missing = event_topics() - stored
    assert not missing, (f"no stored event of {sorted(missing)}: add a scene to tests/fixtures/write_stored_events.py, "
                         "run it with `append <scene>` and name the class in ADDED_AFTER_THE_FIXTURE")
    original = set(known["generations"][0]["topics"])
    appended = {t for generation in known["generations"][1:] for t in generation["topics"]} - original
    assert appended == set(ADDED_AFTER_THE_FIXTURE), "ADDED_AFTER_THE_FIXTURE names the appended classes, no others"
