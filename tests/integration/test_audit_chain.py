"""The audit hash chain on each real store: sealed exactly once from the first event, and any change made
directly in the database to the stored events (UPDATE, DELETE, INSERT, swapped positions) found at its position."""

from __future__ import annotations

from typing import Iterator
from uuid import uuid4

import pytest
from sqlalchemy import Engine, select, text

from audit.chain import GENESIS
from audit.seal import AuditChainProjection, audit_chain
from audit.store import sealed_head, verify_store
from projections.database import engine_for
from projections.runner import ProjectionRunner
from tests.factories import ERIK, SARA, mandate_values, register_cast, task_values


@pytest.fixture
def runner(service, store_env) -> Iterator[ProjectionRunner]:
    """A store with some history (the cast, tasks and a mandate), sealed by the audit chain alone."""
    register_cast(service)
    for n in range(3):
        task = service.create_task(ERIK, task_values(title=f"Task {n} — ünïcode")).item
        service.act("tasks", task.id, "start", SARA, {})
    service.record_mandate(SARA, mandate_values())
    runner = ProjectionRunner(service, engine_for(store_env, writer=True), [AuditChainProjection()],
                              reader=engine_for(store_env), batch_size=4)
    runner.setup()
    yield runner
    runner.engine.dispose()
    runner.reader.dispose()


def _events(service) -> tuple[str, str]:
    """The stored events table and its position column, as the library names them on this store."""
    recorder = service.recorder
    return recorder.events_table_name, ("notification_id" if hasattr(recorder, "channel_name") else "rowid")


def _tamper(engine: Engine, service, statement: str, **params) -> None:
    table, position = _events(service)
    with engine.begin() as conn:
        conn.execute(text(statement.format(table=table, position=position)), params)


def _verify(service, runner) -> dict:
    return verify_store(service, runner.reader)


def test_a_clean_store_verifies_and_the_head_is_the_last_sealed_hash(service, runner):
    head = runner.head()
    assert runner.catch_up(runner.projections[0]) == head
    result = _verify(service, runner)
    assert result == {"ok": True, "events": head, "head": sealed_head(runner.reader).hash}
    assert sealed_head(runner.reader).length == head and result["head"] != GENESIS


def test_an_existing_log_is_sealed_from_its_first_event_not_from_its_head(service, runner):
    assert runner.positions()["audit_chain"] == 0
    runner.catch_up(runner.projections[0])
    with runner.reader.connect() as conn:
        assert conn.execute(select(audit_chain.c.position).order_by(audit_chain.c.position)).scalars().all() == \
            list(range(1, runner.head() + 1))


def test_events_after_the_seal_are_reported_until_sealed(service, runner):
    runner.catch_up(runner.projections[0])
    service.create_task(ERIK, task_values(title="After the seal"))
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"]) == (False, runner.head()) and "not sealed" in result["reason"]
    runner.catch_up(runner.projections[0])
    assert _verify(service, runner)["ok"]


def test_a_changed_payload_is_found_at_its_position(service, runner):
    runner.catch_up(runner.projections[0])
    state = service.recorder.select_notifications(5, 1)[0].state
    forged = state.replace(b'"roles":["party"]', b'"roles":["head"]')
    assert forged != state
    _tamper(runner.engine, service, "UPDATE {table} SET state = :state WHERE {position} = 5", state=forged)
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"], result["events"]) == (False, 5, 4)
    assert "does not match its seal" in result["reason"]


def test_a_payload_rewritten_with_the_same_meaning_still_verifies(service, runner):
    """The hash covers the canonical payload: key order and spacing in the stored JSON do not matter."""
    import json

    runner.catch_up(runner.projections[0])
    state = service.recorder.select_notifications(3, 1)[0].state
    respaced = json.dumps(dict(reversed(list(json.loads(state).items()))), indent=1).encode()
    _tamper(runner.engine, service, "UPDATE {table} SET state = :state WHERE {position} = 3", state=respaced)
    assert _verify(service, runner)["ok"]


def test_a_payload_that_is_not_json_is_found_and_one_stored_as_text_is_read_as_its_bytes(service, runner, store_env):
    runner.catch_up(runner.projections[0])
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":  # a column may hold any type there
        _tamper(runner.engine, service, "UPDATE {table} SET state = CAST(state AS TEXT) WHERE {position} = 3")
        assert _verify(service, runner)["ok"]
    _tamper(runner.engine, service, "UPDATE {table} SET state = :state WHERE {position} = 4", state=b"\xff{")
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"], result["events"]) == (False, 4, 3) and "not JSON" in result["reason"]


def test_a_deleted_event_is_found_at_its_position(service, runner):
    runner.catch_up(runner.projections[0])
    _tamper(runner.engine, service, "DELETE FROM {table} WHERE {position} = 6")
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"], result["events"]) == (False, 6, 5) and "missing" in result["reason"]


def test_deleting_the_last_event_is_found(service, runner):
    runner.catch_up(runner.projections[0])
    head = runner.head()
    _tamper(runner.engine, service, "DELETE FROM {table} WHERE {position} = :head", head=head)
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"]) == (False, head) and "missing" in result["reason"]


def test_an_inserted_event_is_found_at_its_position(service, runner):
    runner.catch_up(runner.projections[0])
    head = runner.head()
    first = service.recorder.select_notifications(1, 1)[0]
    _tamper(runner.engine, service, "INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "VALUES (:id, 1, :topic, :state)", id=str(uuid4()), topic=first.topic, state=first.state)
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"], result["events"]) == (False, head + 1, head)
    assert "not sealed" in result["reason"]


def test_an_event_inserted_into_a_gap_is_found_at_its_position(service, runner):
    runner.catch_up(runner.projections[0])
    table, position = _events(service)
    seventh = service.recorder.select_notifications(7, 1)[0]
    # Move the seventh event out and put a forgery in its place: the seal names another event there.
    _tamper(runner.engine, service, "DELETE FROM {table} WHERE {position} = 7")
    _tamper(runner.engine, service, "INSERT INTO {table} ({position}, originator_id, originator_version, topic, "
            "state) VALUES (7, :id, 1, :topic, :state)", id=str(uuid4()), topic=seventh.topic, state=seventh.state)
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"]) == (False, 7) and "reordered or replaced" in result["reason"]


def test_an_event_inserted_below_the_first_position_is_found(service, runner):
    runner.catch_up(runner.projections[0])
    first = service.recorder.select_notifications(1, 1)[0]
    _tamper(runner.engine, service, "INSERT INTO {table} ({position}, originator_id, originator_version, topic, "
            "state) VALUES (0, :id, 1, :topic, :state)", id=str(uuid4()), topic=first.topic, state=first.state)
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"], result["events"]) == (False, 0, 0) and "not sealed" in result["reason"]


def test_two_swapped_events_are_found_at_the_first_of_them(service, runner):
    runner.catch_up(runner.projections[0])
    for statement in ("UPDATE {table} SET {position} = 1000000 WHERE {position} = 8",
                      "UPDATE {table} SET {position} = 8 WHERE {position} = 10",
                      "UPDATE {table} SET {position} = 10 WHERE {position} = 1000000"):
        _tamper(runner.engine, service, statement)
    assert [n.id for n in service.recorder.select_notifications(8, 3)] == [8, 9, 10]
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"], result["events"]) == (False, 8, 7)
    assert "reordered or replaced" in result["reason"]


def test_a_changed_seal_is_found_at_its_position(service, runner):
    runner.catch_up(runner.projections[0])
    with runner.engine.begin() as conn:
        conn.execute(audit_chain.update().where(audit_chain.c.position == 2).values(hash="f" * 64))
    result = _verify(service, runner)
    assert (result["ok"], result["broken_at"]) == (False, 2)


class Crash(Exception):
    pass


def test_sealing_is_exactly_once_and_survives_a_crash_mid_batch(service, runner):
    projection = runner.projections[0]
    runner.run_batch(projection)  # positions 1-4 sealed
    real_handle = projection.handle

    def crash_after_writing(conn, batch):
        real_handle(conn, batch)  # the rows are written, then the process "dies" before the commit
        raise Crash()

    projection.handle = crash_after_writing
    with pytest.raises(Crash):
        runner.run_batch(projection)
    projection.handle = real_handle
    assert runner.positions()["audit_chain"] == 4
    with runner.reader.connect() as conn:
        assert conn.execute(select(audit_chain.c.position)).scalars().all() == [1, 2, 3, 4]
    runner.catch_up(projection)
    runner.catch_up(projection)  # nothing left: sealing again seals nothing twice
    head = runner.head()
    assert sealed_head(runner.reader).length == head
    assert _verify(service, runner) == {"ok": True, "events": head, "head": sealed_head(runner.reader).hash}
    # A second runner on the same seal (another process) cannot seal a position again.
    other = ProjectionRunner(service, runner.engine, [AuditChainProjection()], reader=runner.reader)
    from projections import tracking

    with runner.engine.begin() as conn:
        tracking.forget(conn, "audit_chain")
        tracking.start_afresh(conn, "audit_chain", AuditChainProjection.version)
    with pytest.raises(Exception):
        other.run_batch(other.projections[0])
    assert sealed_head(runner.reader).length == head


def test_the_command_seals_on_request_verifies_and_exits_1_when_broken(service, runner, store_env, tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.integration.test_scheduler import database_url

    env = {**os.environ, "SECRETARIAT_DATABASE_URL": database_url(store_env), "SECRETARIAT_DATA_DIR": str(tmp_path)}
    command = [str(Path(sys.executable).with_name("secretariat")), "audit", "verify"]

    def verify(*options: str) -> tuple[int, dict]:
        done = subprocess.run([*command, *options], env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])

    code, result = verify()  # nothing sealed yet: the first event is reported
    assert (code, result["ok"], result["broken_at"]) == (1, False, 1)
    code, result = verify("--seal")
    assert (code, result["ok"], result["events"]) == (0, True, runner.head())
    _tamper(runner.engine, service, "DELETE FROM {table} WHERE {position} = 3")
    code, result = verify()
    assert (code, result["ok"], result["broken_at"]) == (1, False, 3)
