"""Personal data on the real stores: encrypted at rest, erased by deleting the key, copies scrubbed, old events told."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import insert, select

from domain.personal_data import ERASED, PersonalData
from domain.user import User
from personal_data.erasure import erase_person
from projections.database import engine_for
from scheduler.outbox import deliveries
from tests.factories import ADMIN

ADDRESS = "person.to.forget@subject.example"


def _store_bytes(store_env) -> bytes:
    database = Path(store_env["SQLITE_DBNAME"])
    return b"".join(p.read_bytes() for p in (database, Path(f"{database}-wal")) if p.exists())


def _delivery_row(engine, recipients: list[str], error: str) -> None:
    deliveries.metadata.create_all(engine, tables=[deliveries])
    now = datetime(2026, 11, 23, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(deliveries).values(
            id="d1", reminder_id="r1", channel="email", collection="tasks", position=1, reminder="{}",
            recipients=json.dumps(recipients), status="failed", attempts=3, next_attempt_at=now,
            last_error=error, created_at=now))


def test_an_address_is_stored_encrypted_and_reads_erased_after_its_key_is_deleted(service, store_env):
    service.register_user("forgetme", "long-enough-1", ["secretariat"], email=ADDRESS, actor=ADMIN)
    stored = [n.state for n in service.recorder.select_notifications(1, 100)]
    assert not any(ADDRESS.encode() in state for state in stored)
    assert service.user("forgetme").email == ADDRESS  # warm in the aggregate cache

    engine = engine_for(dict(store_env), writer=True)
    _delivery_row(engine, [ADDRESS, "other@x.example"], f"550 mailbox {ADDRESS} unavailable")
    report = erase_person(service, engine, "forgetme", "the subject asked (ticket 17)", actor=ADMIN)

    assert (report.keys_deleted, report.rows_scrubbed, report.events_in_clear) == (1, 1, 0)
    user = service.user("forgetme")
    assert (user.email, user.email_shown) == (None, ERASED)
    assert [str(e.email) for e in service.repository.event_store.get(user.id) if hasattr(e, "email")] == [ERASED]
    last = list(service.repository.event_store.get(user.id))[-1]
    assert (type(last).__name__, last.actor, last.reason) == ("PersonalDataErased", "admin", "the subject asked (ticket 17)")
    with engine.connect() as conn:
        row = conn.execute(select(deliveries.c.recipients, deliveries.c.last_error)).one()
    assert json.loads(row.recipients) == [ERASED, "other@x.example"] and ADDRESS not in row.last_error
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        assert ADDRESS.encode() not in _store_bytes(store_env)  # free pages and the WAL included
    engine.dispose()


def test_a_new_address_after_an_erasure_gets_a_new_key_and_reads(service, store_env):
    service.register_user("returns", "long-enough-1", ["secretariat"], email=ADDRESS, actor=ADMIN)
    engine = engine_for(dict(store_env), writer=True)
    erase_person(service, engine, "returns", "asked", actor=ADMIN)
    service.change_email("returns", "new.address@subject.example", actor=ADMIN)
    assert service.user("returns").email == "new.address@subject.example"
    assert service.recipients(["user:returns"])[0].email == "new.address@subject.example"
    engine.dispose()


def test_events_stored_before_encryption_are_reported_not_rewritten(service, store_env):
    # As a Registered event written before this change: the address as a plain string in the payload.
    legacy = User._create(User.Registered, id=User.id_for("veteran"), timestamp=service.clock(), actor="admin",
                          username="veteran", password_hash="x", roles=["secretariat"], party=None, email=ADDRESS)
    service.save(legacy)
    engine = engine_for(dict(store_env), writer=True)
    report = erase_person(service, engine, "veteran", "asked", actor=ADMIN)
    assert (report.keys_deleted, report.events_in_clear) == (0, 1)
    assert "cannot be erased without rewriting history" in " ".join(report.lines())
    assert service.user("veteran").email is None  # the user reads erased; the old event itself still holds it
    assert any(ADDRESS.encode() in n.state for n in service.recorder.select_notifications(1, 100))
    engine.dispose()


def test_an_erasure_needs_a_reason_and_an_admin(service, store_env):
    import pytest

    from domain.errors import Forbidden, ValidationFailed
    from tests.factories import SARA

    service.register_user("kept", "long-enough-1", ["secretariat"], email=ADDRESS, actor=ADMIN)
    engine = engine_for(dict(store_env), writer=True)
    with pytest.raises(Forbidden):
        erase_person(service, engine, "kept", "asked", actor=SARA)
    with pytest.raises(ValidationFailed):
        erase_person(service, engine, "kept", "  ", actor=ADMIN)
    assert service.user("kept").email == ADDRESS  # nothing was deleted
    assert isinstance(vars(service.user("kept"))["email"], PersonalData)
    engine.dispose()
