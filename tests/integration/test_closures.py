"""Closure days on each real store: recorded as events, counted by every process, never rewriting the past."""

from __future__ import annotations

from datetime import date

from domain.closures import CLOSURES_ID
from tests.conftest import make_service
from tests.factories import ADMIN, ALBA, HANA, request_values

# The clock stands at Monday 23 November 2026, 09:00 UTC; the calendar has weekends only, so a
# request's decision is due on Monday 7 December, or Tuesday 8 December with Wednesday 2 closed.
CLOSED = date(2026, 12, 2)


def decision_due(service) -> date:
    return service.submit_support_request(ALBA, request_values()).item.fields["decision_due"]


def test_closing_and_reopening_a_day_are_events_with_their_actor_and_reason(service, clock):
    closed_at = clock()
    service.close_day(CLOSED, "Move to new premises", actor=HANA)
    clock.advance(hours=1)
    service.reopen_day(CLOSED, "The move is postponed", actor=ADMIN)

    history = list(service.events.get(CLOSURES_ID))
    assert [(type(e).__qualname__, e.actor, getattr(e, "day", None), getattr(e, "reason", None)) for e in history] == [
        ("Closures.Created", "hana", None, None),
        ("Closures.DayClosed", "hana", CLOSED, "Move to new premises"),
        ("Closures.DayReopened", "admin", CLOSED, "The move is postponed")]
    assert [e.timestamp for e in history] == [closed_at, closed_at, clock()]


def test_a_closed_day_moves_only_the_deadlines_of_requests_submitted_after_it_was_closed(service):
    before = service.submit_support_request(ALBA, request_values()).item
    service.close_day(CLOSED, "Move to new premises", actor=HANA)
    during = service.submit_support_request(ALBA, request_values()).item
    service.reopen_day(CLOSED, "The move is postponed", actor=HANA)
    after = service.submit_support_request(ALBA, request_values()).item

    assert during.fields["decision_due"] == date(2026, 12, 8)
    assert after.fields["decision_due"] == date(2026, 12, 7)
    # A request's decision deadline is fixed when it is submitted (it is in its Submitted event):
    # a later change of the calendar does not move what the Party was told.
    assert [service.get_item("support-requests", r.id, HANA).fields["decision_due"] for r in (before, during)] == [
        date(2026, 12, 7), date(2026, 12, 8)]


def test_a_day_closed_by_another_process_counts_in_the_next_deadline(service, store_env, hasher, clock):
    assert decision_due(service) == date(2026, 12, 7)  # the closures are now in this process's cache
    other = make_service(store_env, hasher, clock)  # e.g. `secretariat calendar close` on the command line
    try:
        other.close_day(CLOSED, "Move to new premises", actor=ADMIN)
        assert decision_due(service) == date(2026, 12, 8)
        other.reopen_day(CLOSED, "The move is postponed", actor=ADMIN)
        assert decision_due(service) == date(2026, 12, 7)
        assert [c.day for c in service.closures()] == []
    finally:
        other.close()
