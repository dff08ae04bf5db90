"""The application service on each real store (SQLite file and PostgreSQL): the same cases, two backends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import Conflict, NotFound, PreconditionFailed, RuleBroken, ValidationFailed
from domain.mandate import Mandate
from tests.conftest import make_service
from tests.factories import (ADMIN, ALBA, AUDREY, ERIK, HANA, MILAN, SARA, mandate_values, register_cast, request_values,
                             task_values)


@pytest.fixture
def service(service):
    register_cast(service)
    return service


def test_a_task_goes_its_whole_way_and_its_history_says_who_did_what_and_why(service, clock):
    task = service.create_task(ERIK, task_values()).item
    steps = [(SARA, "start", {}, None), (SARA, "block", {}, "Waiting for the Parties"),
             (SARA, "unblock", {}, None), (SARA, "submit", {"result": "Catalogue v1"}, None),
             (HANA, "return", {}, "Add the 2024 agreements"), (SARA, "submit", {"result": "Catalogue v2"}, None),
             (ERIK, "approve", {}, None)]
    for actor, action, values, reason in steps:
        clock.advance(hours=1)
        task = service.act("tasks", task.id, action, actor, values, reason=reason).item
    assert (task.state, task.version, task.fields["result"]) == ("done", 8, "Catalogue v2")

    history = service.history("tasks", task.id, AUDREY)
    assert [(e["version"], e["type"], e["actor"], e["reason"]) for e in history] == [
        (1, "Task.Created", "erik", None), (2, "Task.Started", "sara", None),
        (3, "Task.Blocked", "sara", "Waiting for the Parties"), (4, "Task.Unblocked", "sara", None),
        (5, "Task.Submitted", "sara", None), (6, "Task.Returned", "hana", "Add the 2024 agreements"),
        (7, "Task.Submitted", "sara", None), (8, "Task.Approved", "erik", None)]
    assert [(e["state_before"], e["state_after"]) for e in history][:3] == [
        (None, "open"), ("open", "in_progress"), ("in_progress", "blocked")]
    assert history[4]["data"] == {"result": "Catalogue v1"}
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)


def test_a_support_request_is_approved_only_after_a_clean_duplication_check(service):
    request = service.submit_support_request(ALBA, request_values()).item
    assert request.fields["decision_due"] == date(2026, 12, 7)  # 10 working days after Monday 23 November
    service.act("support-requests", request.id, "start_screening", SARA, {})
    with pytest.raises(RuleBroken, match="duplication check"):
        service.act("support-requests", request.id, "approve", HANA, {})
    service.act("support-requests", request.id, "request_info", SARA, {}, reason="Which officers?")
    service.act("support-requests", request.id, "provide_info", ALBA, {"info": "Four border police officers"})
    service.act("support-requests", request.id, "record_duplication_check", SARA, {"duplicates_found": False})
    for action, actor, values in [("approve", HANA, {}), ("start_delivery", SARA, {}),
                                  ("complete_delivery", SARA, {"report": "Delivered"}), ("close", SARA, {})]:
        request = service.act("support-requests", request.id, action, actor, values).item
    assert request.state == "closed"
    assert [(d["kind"], d["due"], d["open"]) for d in request.deadlines()] == [("decision", date(2026, 12, 7), False)]


def test_a_mandate_cannot_be_fulfilled_while_a_linked_task_is_open(service):
    mandate = service.record_mandate(SARA, mandate_values()).item
    task = service.create_task(ERIK, task_values(mandate_id=str(mandate.id))).item
    service.act("mandates", mandate.id, "start", ERIK, {})
    service.act("mandates", mandate.id, "report", SARA, {"summary": "Support given to five Parties"})
    with pytest.raises(RuleBroken, match="1 linked task"):
        service.act("mandates", mandate.id, "fulfil", HANA, {})
    service.act("tasks", task.id, "cancel", HANA, {}, reason="Superseded by the 2026 plan")
    mandate = service.act("mandates", mandate.id, "fulfil", HANA, {}).item
    assert mandate.state == "fulfilled"
    assert mandate.linked_tasks == {str(task.id): "cancelled"}


def test_a_task_linked_while_the_mandate_is_being_fulfilled_makes_one_of_them_lose(service):
    mandate = service.record_mandate(SARA, mandate_values()).item
    service.act("mandates", mandate.id, "start", ERIK, {})
    service.act("mandates", mandate.id, "report", SARA, {"summary": "Done"})
    stale = service.get_item("mandates", mandate.id, HANA)
    service.create_task(ERIK, task_values(mandate_id=str(mandate.id)))  # links, moving the mandate on
    stale.act("fulfil", HANA, {}, now=service.clock())
    with pytest.raises(Exception) as lost:
        service.save(stale)
    assert "IntegrityError" in type(lost.value).__name__
    assert service.get_item("mandates", mandate.id, HANA).state == "reported"


def test_a_task_cannot_be_linked_to_a_missing_or_closed_mandate(service):
    with pytest.raises(ValidationFailed, match="names no existing mandate") as refused:
        service.create_task(ERIK, task_values(mandate_id="8a6f8a5e-0000-4000-8000-000000000000"))
    assert refused.value.field == "mandate_id"
    mandate = service.record_mandate(SARA, mandate_values()).item
    service.act("mandates", mandate.id, "withdraw", HANA, {}, reason="Overtaken by events")
    with pytest.raises(RuleBroken, match="withdrawn"):
        service.create_task(ERIK, task_values(mandate_id=str(mandate.id)))


def test_a_task_is_assigned_only_to_an_existing_user(service):
    with pytest.raises(ValidationFailed, match="'nobody' is not a user"):
        service.create_task(ERIK, task_values(assignee="nobody"))
    task = service.create_task(ERIK, task_values()).item
    with pytest.raises(ValidationFailed):
        service.act("tasks", task.id, "assign", ERIK, {"assignee": "nobody"})
    assert service.act("tasks", task.id, "assign", ERIK, {"assignee": "erik"}).item.fields["assignee"] == "erik"


def test_a_second_mandate_with_the_same_reference_is_a_conflict(service):
    service.record_mandate(SARA, mandate_values())
    with pytest.raises(Conflict, match="already exists"):
        service.record_mandate(HANA, mandate_values(title="Another title"))


def test_a_concurrent_change_that_lost_the_race_is_a_conflict_and_changes_nothing(service):
    task = service.create_task(ERIK, task_values()).item
    first = service.get_item("tasks", task.id, SARA)
    second = service.get_item("tasks", task.id, SARA)
    first.act("start", SARA, {}, now=service.clock())
    service.save(first)
    second.act("cancel", HANA, {}, now=service.clock(), reason="Not needed")
    from eventsourcing.persistence import IntegrityError

    with pytest.raises(IntegrityError):
        service.save(second)
    assert service.get_item("tasks", task.id, SARA).state == "in_progress"


def test_an_expected_version_that_is_not_the_current_one_is_refused(service):
    task = service.create_task(ERIK, task_values()).item
    with pytest.raises(PreconditionFailed, match="version 1, not 4"):
        service.act("tasks", task.id, "start", SARA, {}, expected_version=4)
    assert service.act("tasks", task.id, "start", SARA, {}, expected_version=1).item.version == 2


def test_an_idempotency_key_returns_the_first_answer_and_records_nothing_twice(service):
    task = service.create_task(ERIK, task_values()).item
    first = service.act("tasks", task.id, "start", SARA, {}, idempotency_key="k1", fingerprint="f")
    again = service.act("tasks", task.id, "start", SARA, {}, idempotency_key="k1", fingerprint="f")
    assert (first.replayed, again.replayed) == (False, True)
    assert (again.item.id, again.item.version, again.status) == (task.id, 2, 200)
    assert len(service.history("tasks", task.id, SARA)) == 2
    with pytest.raises(ValidationFailed, match="already used for a different request"):
        service.act("tasks", task.id, "block", SARA, {}, reason="x", idempotency_key="k1", fingerprint="other")
    # Keys are per user: Hana's k1 is her own.
    assert service.act("tasks", task.id, "cancel", HANA, {}, reason="x", idempotency_key="k1",
                       fingerprint="f").replayed is False


def test_a_created_item_answers_a_retried_creation_with_the_same_item(service):
    first = service.create_task(ERIK, task_values(), idempotency_key="new-task", fingerprint="f")
    again = service.create_task(ERIK, task_values(), idempotency_key="new-task", fingerprint="f")
    assert again.item.id == first.item.id and again.status == 201 and again.replayed


def test_an_item_is_read_at_any_version_and_at_any_past_instant(service, clock):
    task = service.create_task(ERIK, task_values()).item
    created_at = clock.now
    clock.advance(days=1)
    service.act("tasks", task.id, "start", SARA, {})
    clock.advance(days=1)
    service.act("tasks", task.id, "reschedule", ERIK, {"due": date(2027, 1, 31)}, reason="Holidays")
    assert service.get_item("tasks", task.id, SARA, version=1).state == "open"
    at_version_2 = service.get_item("tasks", task.id, SARA, version=2)
    assert (at_version_2.state, at_version_2.fields["due"]) == ("in_progress", date(2026, 12, 15))
    assert service.get_item("tasks", task.id, SARA, as_of=created_at + timedelta(hours=12)).version == 1
    assert service.get_item("tasks", task.id, SARA, as_of=clock.now).fields["due"] == date(2027, 1, 31)
    with pytest.raises(NotFound, match="did not exist"):
        service.get_item("tasks", task.id, SARA, as_of=created_at - timedelta(seconds=1))
    with pytest.raises(NotFound, match="no version 9"):
        service.get_item("tasks", task.id, SARA, version=9)


def test_a_long_lived_item_is_snapshotted_and_still_replays_exactly(service):
    task = service.create_task(ERIK, task_values()).item
    for day in range(1, 61):
        service.act("tasks", task.id, "reschedule", ERIK, {"due": date(2027, 1, 1) + timedelta(days=day)},
                    reason=f"Move {day}")
    assert list(service.snapshots.get(task.id)), "no snapshot was taken"
    assert service.get_item("tasks", task.id, SARA).fields["due"] == date(2027, 3, 2)
    assert service.get_item("tasks", task.id, SARA, version=30).fields["due"] == date(2027, 1, 30)


def test_a_party_liaison_reads_only_their_own_partys_requests(service):
    own = service.submit_support_request(ALBA, request_values()).item
    other = service.submit_support_request(MILAN, request_values(party="RS")).item
    assert service.get_item("support-requests", own.id, ALBA).id == own.id
    with pytest.raises(NotFound):
        service.get_item("support-requests", other.id, ALBA)
    with pytest.raises(NotFound):  # the EWG reads no support request: to it, none exists
        service.get_item("support-requests", own.id, ERIK)
    assert service.get_item("support-requests", other.id, SARA).id == other.id


def test_events_survive_a_restart_of_the_application(store_env, hasher, clock, service):
    task = service.create_task(ERIK, task_values()).item
    service.act("tasks", task.id, "start", SARA, {})
    reopened = make_service(store_env, hasher, clock)
    try:
        assert reopened.get_item("tasks", task.id, SARA).state == "in_progress"
        assert reopened.authenticate("sara", "sara") is not None
    finally:
        reopened.close()


def test_role_grants_and_revocations_are_events_and_take_effect_at_once(service):
    service.grant_role("erik", "secretariat", actor=ADMIN)
    assert service.actor_named("erik").roles == {"ewg", "secretariat"}
    service.revoke_role("erik", "ewg", actor=ADMIN)
    assert service.actor_named("erik").roles == {"secretariat"}
    events = list(service.events.get(service.user("erik").id))
    assert [(type(e).__name__, e.actor) for e in events] == [
        ("Registered", "admin"), ("RoleGranted", "admin"), ("RoleRevoked", "admin")]
    with pytest.raises(RuleBroken, match="does not have the role ewg"):
        service.revoke_role("erik", "ewg", actor=ADMIN)


def test_sign_in_needs_the_right_password_and_an_existing_user(service):
    assert service.authenticate("sara", "sara").roles == {"secretariat"}
    assert service.authenticate("sara", "wrong") is None
    assert service.authenticate("nobody", "sara") is None
    service.change_password("sara", "a much longer passphrase", actor=SARA, current_password="sara")
    assert service.authenticate("sara", "sara") is None
    assert service.authenticate("sara", "a much longer passphrase") is not None


def test_a_second_user_of_the_same_name_is_refused(service):
    with pytest.raises(Conflict, match="already exists"):
        service.register_user("sara", "another one", ["ewg"], actor=ADMIN)


def test_mandate_ids_derive_from_their_reference():
    assert Mandate.id_for("CoM-2015-05-05/1") == Mandate.id_for(" CoM-2015-05-05/1 ")
    assert Mandate.id_for("CoM-2015-05-05/1") != Mandate.id_for("CoM-2015-05-05/2")
