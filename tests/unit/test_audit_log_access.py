"""Who reads the global audit log, what of support requests they see in it, and how its filters are checked."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from domain.actor import ROLES, Actor
from audit.access import AUDIT_LOG_READERS, AuditLogScope, audit_log_scope
from domain.errors import Forbidden, ValidationFailed
from domain.idempotency import IdempotencyRecord
from domain.support_request import WORKFLOW as SUPPORT_REQUESTS
from domain.user import User
from audit.log import data_of, kind_of
from audit.log_reading import audit_filter
from tests.factories import ALBA, AUDREY, ERIK, HANA, SARA

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)


def test_auditors_and_heads_read_the_whole_log_including_every_support_request():
    # Meetings are read by the Parties taking part in them, so they are scoped in the log too.
    assert audit_log_scope(AUDREY) == AuditLogScope({"support_request": {}, "meeting": {}}) == audit_log_scope(HANA)


@pytest.mark.parametrize("actor", [SARA, ERIK, ALBA, Actor("admin", frozenset({"admin"}))], ids=lambda a: a.username)
def test_everyone_else_is_refused_the_log(actor):
    with pytest.raises(Forbidden, match="auditor, head"):
        audit_log_scope(actor)


def test_every_role_that_reads_the_log_reads_every_support_request():
    """A role added to AUDIT_LOG_READERS that may not read all support requests fails here: decide
    deliberately, knowing the log then shows it only those the workflow lets it read."""
    for role in AUDIT_LOG_READERS:
        assert role in ROLES
        assert SUPPORT_REQUESTS.read_scope(Actor("someone", frozenset({role}))) == {}, role


def test_the_support_request_workflow_decides_which_requests_a_log_reader_sees():
    # Were the auditor no longer a reader of support requests, the log would hide them from the auditor...
    without_auditors = dataclasses.replace(SUPPORT_REQUESTS, readers=("secretariat", "head", "own_party"))
    assert audit_log_scope(AUDREY, [without_auditors]) == AuditLogScope({"support_request": None})
    # ...and a log reader who is also a Party liaison would see their own Party's only.
    liaison_auditor = Actor("ana", frozenset({"auditor", "party"}), "AL")
    assert audit_log_scope(liaison_auditor, [without_auditors]) == AuditLogScope(
        {"support_request": {"party": "AL"}})
    assert audit_log_scope(HANA, [without_auditors]) == AuditLogScope({"support_request": {}})


def test_no_password_hash_goes_into_a_users_events_data():
    user = User.register("bob", "$argon2id$secret", ["secretariat"], party=None, email=None, actor="admin", now=NOW)
    user.change_password("$argon2id$other", actor="bob", now=NOW)
    registered, changed = user.collect_events()
    assert data_of(registered) == {"username": "bob", "roles": ["secretariat"], "party": None, "email": None}
    assert data_of(changed) == {}
    assert kind_of(changed) == ("user", None)


def test_idempotency_records_are_left_out_of_the_log():
    record = IdempotencyRecord.start("sara", "k", "f", item_id=User.id_for("x"), version=1, status=201, now=NOW)
    assert kind_of(record.collect_events()[0]) is None


@pytest.mark.parametrize("field, filters", [
    ("item_id", {"item_id": "not-an-id"}),
    ("type", {"type": "Task.Aproved"}),
    ("type", {"type": "Aproved"}),
    ("since", {"since": datetime(2026, 1, 1)}),
    ("until", {"until": datetime(2026, 1, 1)}),
    ("until", {"since": NOW, "until": datetime(2026, 1, 1, tzinfo=timezone.utc)}),
    ("limit", {"limit": 0}),
    ("limit", {"limit": 1001}),
    ("after", {"after": -1}),
])
def test_bad_filters_are_refused_naming_the_filter(field, filters):
    with pytest.raises(ValidationFailed) as refused:
        audit_filter(**filters)
    assert refused.value.field == field


def test_good_filters_pass_and_an_id_is_made_canonical():
    wanted = audit_filter(item_id=str(User.id_for("x")).upper(), type="Started", since=NOW, limit=1000)
    assert wanted.item_id == str(User.id_for("x")) and wanted.type == "Started" and wanted.limit == 1000
    assert audit_filter(type="Task.Started").type == "Task.Started"
    assert audit_filter(type="Closures.DayClosed").type == "Closures.DayClosed"
