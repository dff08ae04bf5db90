"""No read of an item tells a caller who may not know it exists anything an unknown id would not (issue 10, 3-6).

Each test asks the service the same question about another Party's request and about an id
that names nothing, and wants the same refusal word for word once the id is blanked out.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Callable
from uuid import UUID, uuid4

import pytest

from domain.errors import DomainError, Forbidden, NotFound
from domain.reminders import reminder_id
from tests.factories import ALBA, ERIK, MILAN, SARA, request_values


def refusal(ask: Callable[[], object], item_id: UUID | str) -> tuple[type, str]:
    """The error a question raises, with the id it names blanked out."""
    with pytest.raises(DomainError) as raised:
        ask()
    return type(raised.value), raised.value.detail.replace(str(item_id), "<id>")


@pytest.fixture
def theirs(service):
    """A Serbian request, unknown to the Albanian liaison and to the EWG."""
    return service.submit_support_request(MILAN, request_values(party="RS")).item


def test_a_version_of_another_partys_request_is_refused_as_for_an_unknown_id(service, theirs):
    absent = uuid4()
    for reader in (ALBA, ERIK):
        for version in (1, 2, 99, 2**31):
            hidden = refusal(lambda: service.get_item("support-requests", theirs.id, reader, version=version),
                             theirs.id)
            assert hidden == refusal(lambda: service.get_item("support-requests", absent, reader, version=version),
                                     absent)
            assert hidden == (NotFound, "no support request with id <id>")
    # Its own Party is still told how many versions it has.
    with pytest.raises(NotFound, match="has no version 99; it is at version 1"):
        service.get_item("support-requests", theirs.id, MILAN, version=99)


def test_another_partys_request_at_any_instant_is_refused_as_an_unknown_id_is(service, clock, theirs):
    created = theirs.created_on
    clock.advance(days=2)
    service.act("support-requests", theirs.id, "start_screening", SARA, {})
    absent = uuid4()
    instants = [created - timedelta(days=400), created - timedelta(microseconds=1), created,
                created + timedelta(microseconds=1), created + timedelta(days=1), clock.now,
                clock.now + timedelta(days=9)]
    for reader in (ALBA, ERIK):
        for instant in instants:
            hidden = refusal(lambda: service.get_item("support-requests", theirs.id, reader, as_of=instant), theirs.id)
            assert hidden == refusal(lambda: service.get_item("support-requests", absent, reader, as_of=instant),
                                     absent), instant
    # Those who may read it still learn when it began.
    with pytest.raises(NotFound, match="did not exist at"):
        service.get_item("support-requests", theirs.id, MILAN, as_of=created - timedelta(microseconds=1))
    assert service.get_item("support-requests", theirs.id, MILAN, as_of=created).version == 1


def test_a_computed_reminder_id_on_another_partys_request_is_refused_as_no_reminder(service, clock):
    soon = service.submit_support_request(MILAN, request_values(party="RS", needed_by=date(2026, 11, 26))).item
    [raised] = service.raise_reminders([soon.id])
    computed = str(reminder_id(soon.id, 2))
    assert raised["reminder_id"] == computed
    for reader in (ALBA, ERIK):
        assert refusal(lambda: service.acknowledge_reminder("support-requests", soon.id, computed, reader),
                       computed) == (NotFound, "no reminder <id>")
    # The item's own readers are told why they may not acknowledge it, and those addressed may.
    with pytest.raises(Forbidden, match="role:secretariat"):
        service.acknowledge_reminder("support-requests", soon.id, computed, MILAN)
    item, _position = service.acknowledge_reminder("support-requests", soon.id, computed, SARA)
    assert item.reminders[computed]["acknowledged_by"] == "sara"


def test_the_ewg_is_told_a_support_request_does_not_exist_on_every_read_and_action(service, theirs):
    absent = uuid4()
    questions: list[Callable[[UUID], object]] = [
        lambda item_id: service.get_item("support-requests", item_id, ERIK),
        lambda item_id: service.get_item("support-requests", item_id, ERIK, version=1),
        lambda item_id: service.get_item("support-requests", item_id, ERIK, as_of=theirs.created_on),
        lambda item_id: service.history("support-requests", item_id, ERIK),
        lambda item_id: service.act("support-requests", item_id, "start_screening", ERIK, {}),
        lambda item_id: service.act("support-requests", item_id, "withdraw", ERIK, {}, reason="Not the EWG's"),
    ]
    for ask in questions:
        hidden = refusal(lambda: ask(theirs.id), theirs.id)
        assert hidden == refusal(lambda: ask(absent), absent) == (NotFound, "no support request with id <id>")
    assert service.get_item("support-requests", theirs.id, SARA).version == 1  # nothing was recorded
