"""The global audit log on each real store: every decision in it with its columns, no password hash, filters and
keyset paging, and a rebuild equal to the live view."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest
from sqlalchemy import select

from audit.access import AuditLogScope
from domain.errors import Forbidden
from domain.user import User
from audit.log import AuditLogProjection, audit_events
from audit.log_reading import audit_filter, log_page, read_audit_events
from projections.database import engine_for
from projections.runner import ProjectionRunner
from tests.factories import (ADMIN, ALBA, AUDREY, ERIK, HANA, MILAN, SARA, mandate_values, register_cast,
                             request_values, task_values)

A_WORKING_DAY = date(2026, 12, 2)  # a Wednesday


@pytest.fixture
def service(service):
    register_cast(service)
    return service


@pytest.fixture
def runner(service, store_env):
    runner = ProjectionRunner(service, engine_for(store_env, writer=True),
                              [AuditLogProjection(service.mapper.transcoder)], batch_size=7, rebuild_batch_size=5)
    runner.setup()
    yield runner
    runner.engine.dispose()


def some_history(service, clock) -> dict:
    """Every kind of event: items of each collection, users' changes, closures, and an idempotency record."""
    mandate = service.record_mandate(SARA, mandate_values()).item
    task = service.create_task(ERIK, task_values(mandate_id=str(mandate.id))).item
    clock.advance(hours=1)
    service.act("tasks", task.id, "start", SARA, {}, idempotency_key="k1", fingerprint="f")
    service.act("tasks", task.id, "block", SARA, {}, reason="Waiting for the Parties")
    own = service.submit_support_request(ALBA, request_values()).item
    clock.advance(hours=1)
    other = service.submit_support_request(MILAN, request_values(party="RS", kind="logistical", amount_eur=None)).item
    service.act("support-requests", own.id, "start_screening", SARA, {})
    service.act("support-requests", other.id, "withdraw", MILAN, {}, reason="Solved bilaterally")
    service.grant_role("erik", "secretariat", actor=ADMIN)
    service.revoke_role("erik", "secretariat", actor=ADMIN)
    service.change_password("sara", "a-new-long-password", actor=SARA, current_password="sara")
    service.change_email("sara", "sara@example.org", actor=SARA)
    clock.advance(hours=1)
    service.close_day(A_WORKING_DAY, "Move to the new building", actor=HANA)
    service.reopen_day(A_WORKING_DAY, "The move is postponed", actor=HANA)
    return {"mandate": mandate, "task": task, "own": own, "other": other}


def all_rows(runner) -> list[dict]:
    with runner.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(audit_events).order_by(audit_events.c.position)).mappings()]


def page(read_models, actor=AUDREY, **filters) -> dict:
    return log_page(read_models, actor, **filters)


def test_every_event_but_idempotency_records_is_in_the_log_with_its_columns(service, runner, read_models, clock):
    made = some_history(service, clock)
    runner.catch_up(runner.projections[0])
    notifications = service.recorder.select_notifications(1, 10_000)
    events = {n.id: service.mapper.to_domain_event(n) for n in notifications}
    rows = {row["position"]: row for row in all_rows(runner)}
    expected = {p for p, e in events.items() if not type(e).__qualname__.startswith("IdempotencyRecord.")}
    assert len(expected) < len(events)  # the idempotency record is left out...
    assert set(rows) == expected  # ...and nothing else
    for position, row in rows.items():
        event = events[position]
        assert (row["item_id"], row["version"], row["type"]) == (
            str(event.originator_id), event.originator_version, type(event).__qualname__)

    log = page(read_models, limit=1000)["events"]
    by_type = {}
    for entry in log:
        by_type.setdefault(entry["type"], []).append(entry)
    assert {e["kind"] for e in log} == {"user", "mandate", "task", "support_request", "calendar"}

    started = by_type["Task.Started"][0]
    assert started["item_id"] == str(made["task"].id) and started["collection"] == "tasks"
    assert started["version"] == 2 and started["actor"] == "sara" and started["kind"] == "task"
    assert started["at"] == clock.now - timedelta(hours=2)
    blocked = by_type["Task.Blocked"][0]
    assert blocked["reason"] == "Waiting for the Parties" and blocked["data"] == {}
    created = by_type["Task.Created"][0]
    assert created["data"] == {**task_values(mandate_id=str(made["mandate"].id))}  # the date decodes as a date
    assert by_type["Mandate.TaskLinked"][0]["item_id"] == str(made["mandate"].id)

    requests = [e for e in log if e["kind"] == "support_request"]
    assert {(e["item_id"], e["party"]) for e in requests} == {(str(made["own"].id), "AL"), (str(made["other"].id), "RS")}
    assert by_type["SupportRequest.Withdrawn"][0]["reason"] == "Solved bilaterally"

    sara = str(User.id_for("sara"))
    registered = [e for e in by_type["User.Registered"] if e["item_id"] == sara][0]
    assert registered["kind"] == "user" and registered["collection"] is None and registered["party"] is None
    assert registered["data"] == {"username": "sara", "roles": ["secretariat"], "party": None, "email": None}
    assert [(e["data"], e["actor"]) for e in by_type["User.RoleGranted"]] == [
        ({"role": "secretariat", "party": None}, "admin")]
    assert [e["data"] for e in by_type["User.RoleRevoked"]] == [{"role": "secretariat"}]
    assert [(e["item_id"], e["data"]) for e in by_type["User.PasswordChanged"]] == [(sara, {})]
    # Personal data: kept in the view as ciphertext, read back decrypted (str() is what answers show).
    assert [{k: str(v) for k, v in e["data"].items()} for e in by_type["User.EmailChanged"]] == [
        {"email": "sara@example.org"}]

    closed, reopened = by_type["Closures.DayClosed"][0], by_type["Closures.DayReopened"][0]
    assert closed["kind"] == "calendar" and closed["actor"] == "hana"
    assert (closed["reason"], closed["data"]) == ("Move to the new building", {"day": A_WORKING_DAY})
    assert (reopened["reason"], reopened["data"]) == ("The move is postponed", {"day": A_WORKING_DAY})
    assert by_type["Closures.Created"][0]["version"] == 1


def test_each_entry_says_when_it_was_recorded_and_when_it_happened_and_filters_stay_by_recording(
        service, runner, read_models, clock):
    """A past record imported today: `at` is today (recorded), `occurred_at` the day it happened; a live
    command's two times are equal; `since` and `until` keep their meaning (recorded), as API.md has it."""
    happened = clock.now - timedelta(days=30)
    imported = service.create("tasks", ERIK, task_values(), occurred_at=happened).item
    clock.advance(hours=1)
    service.act("tasks", imported.id, "start", SARA, {})
    runner.catch_up(runner.projections[0])
    created, started = page(read_models, item_id=str(imported.id))["events"]
    assert (created["at"], created["occurred_at"]) == (clock.now - timedelta(hours=1), happened)
    assert started["at"] == started["occurred_at"] == clock.now
    recorded_before_it_happened = page(read_models, item_id=str(imported.id), until=happened + timedelta(days=1))
    assert recorded_before_it_happened["events"] == []  # nothing was recorded then, though it happened then
    assert page(read_models, item_id=str(imported.id), since=clock.now - timedelta(hours=1))["events"] == [
        created, started]


def test_no_password_hash_is_anywhere_in_the_view(service, runner, clock):
    some_history(service, clock)
    runner.catch_up(runner.projections[0])
    hashes = set()
    for notification in service.recorder.select_notifications(1, 10_000):
        event = service.mapper.to_domain_event(notification)
        if hasattr(event, "password_hash"):
            hashes.add(event.password_hash)
    assert len(hashes) == 8  # seven registrations and one change
    stored = repr(all_rows(runner))
    assert "password_hash" not in stored and "$argon2" not in stored
    assert not [h for h in hashes if h in stored]


def test_filters_by_actor_item_type_and_time(service, runner, read_models, clock):
    made = some_history(service, clock)
    runner.catch_up(runner.projections[0])
    everything = page(read_models, limit=1000)["events"]
    start = everything[0]["at"]

    def positions(**filters):
        return [e["position"] for e in page(read_models, limit=1000, **filters)["events"]]

    def where(test):
        return [e["position"] for e in everything if test(e)]

    assert positions(actor_filter="milan") == where(lambda e: e["actor"] == "milan") != []
    assert positions(item_id=str(made["task"].id)) == where(lambda e: e["item_id"] == str(made["task"].id))
    assert len(positions(item_id=str(made["task"].id))) == 3
    assert positions(item_id=str(made["task"].id).upper()) == positions(item_id=str(made["task"].id))
    assert positions(type="Task.Started") == where(lambda e: e["type"] == "Task.Started") != []
    assert positions(type="Submitted") == where(lambda e: e["type"] == "SupportRequest.Submitted")
    assert positions(type="Created") == where(lambda e: e["type"] in ("Task.Created", "Closures.Created"))
    assert positions(type="Withdrawn", actor_filter="milan") == where(lambda e: e["type"].endswith(".Withdrawn"))
    hour = timedelta(hours=1)
    assert positions(since=start + hour) == where(lambda e: e["at"] >= start + hour)
    assert positions(until=start + hour) == where(lambda e: e["at"] < start + hour) != []
    assert positions(since=start + hour, until=start + 2 * hour) == where(
        lambda e: start + hour <= e["at"] < start + 2 * hour) != []
    in_ljubljana = (start + hour).astimezone(service.tz)  # another offset, the same instant
    assert positions(since=in_ljubljana) == positions(since=start + hour)
    assert positions(actor_filter="nobody") == []


def test_only_auditors_and_heads_read_the_log(service, runner, read_models, clock):
    some_history(service, clock)
    runner.catch_up(runner.projections[0])
    assert page(read_models, HANA, limit=1000) == page(read_models, AUDREY, limit=1000)
    for someone in (SARA, ERIK, ALBA, MILAN, ADMIN):
        with pytest.raises(Forbidden, match="auditor, head"):
            page(read_models, someone)


def test_a_scope_without_support_requests_hides_them_and_a_partys_scope_shows_only_its_own(service, runner, clock):
    some_history(service, clock)
    runner.catch_up(runner.projections[0])
    transcoder = service.mapper.transcoder
    wanted = audit_filter(limit=1000)
    with runner.engine.connect() as conn:
        full = read_audit_events(conn, transcoder, AuditLogScope({"support_request": {}}), wanted)["events"]
        none = read_audit_events(conn, transcoder, AuditLogScope({"support_request": None}), wanted)["events"]
        albanian = read_audit_events(conn, transcoder, AuditLogScope({"support_request": {"party": "AL"}}), wanted)["events"]
    assert none == [e for e in full if e["kind"] != "support_request"]
    assert albanian == [e for e in full if e["kind"] != "support_request" or e["party"] == "AL"]
    assert {e["party"] for e in albanian if e["kind"] == "support_request"} == {"AL"}


def test_paging_by_cursor_has_no_duplicates_and_no_gaps_while_new_events_arrive(service, runner, read_models,
                                                                                 clock):
    made = some_history(service, clock)
    runner.catch_up(runner.projections[0])
    seen, after, pages = [], 0, 0
    while True:
        result = page(read_models, limit=4, after=after)
        assert len(result["events"]) <= 4
        seen += [e["position"] for e in result["events"]]
        pages += 1
        if pages <= 3:  # new events land between pages
            service.act("tasks", made["task"].id, "unblock" if pages % 2 else "block", SARA, {},
                        reason=None if pages % 2 else "Again")
            runner.catch_up(runner.projections[0])
        if result["next"] is None:
            break
        assert result["next"] == seen[-1]
        after = result["next"]
    assert seen == [row["position"] for row in all_rows(runner)]
    assert len(seen) == len(set(seen))
    assert len(page(read_models, item_id=str(made["task"].id), limit=1000)["events"]) == 3 + 3  # all arrived
    # a full last page says there may be more only when there is
    exact = len(seen)
    assert page(read_models, limit=exact)["next"] is None
    assert page(read_models, limit=exact - 1)["next"] == seen[-2]


def test_a_rebuild_equals_the_live_view(service, runner, clock):
    some_history(service, clock)
    projection = runner.projections[0]
    runner.catch_up(projection)
    live = all_rows(runner)
    runner.rebuild(projection)
    assert all_rows(runner) == live
    assert runner.lag() == {"audit_log": 0}


def test_a_support_requests_later_events_find_its_party_in_an_earlier_batch(service, runner, store_env):
    own = service.submit_support_request(ALBA, request_values()).item
    projection = runner.projections[0]
    runner.catch_up(projection)  # the Submitted event is committed in an earlier batch
    service.act("support-requests", own.id, "start_screening", SARA, {})
    runner.catch_up(projection)
    rows = [r for r in all_rows(runner) if r["item_id"] == str(own.id)]
    assert [(r["version"], r["party"]) for r in rows] == [(1, "AL"), (2, "AL")]
    assert UUID(rows[0]["item_id"]) == own.id
