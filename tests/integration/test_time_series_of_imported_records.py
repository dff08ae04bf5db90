"""The charts' series of a history imported today read exactly as the same history lived through.

The story of tests/integration/test_time_series.py (August to November 2026), but every event recorded on
23 November with `occurred_at` on the day it happened (an import of past records): each month must still be
read as things stood at its end, so every one of that module's tests runs here unchanged over this store.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from projections.database import engine_for
from projections.items import ItemsProjection
from projections.runner import ProjectionRunner
from tests.factories import ERIK, HANA, MILAN, SARA, ALBA, register_cast, request_values, task_values
from tests.integration.test_time_series import (  # noqa: F401  (collected here, over the imported story)
    test_a_long_span_is_cut_to_three_years, test_a_party_liaison_gets_no_counts_and_an_admin_no_charts,
    test_months_before_anything_was_recorded_count_nothing,
    test_open_tasks_by_state_are_as_they_stood_at_each_months_end,
    test_overdue_deadlines_are_counted_at_each_months_end_within_what_the_reader_may_read,
    test_tasks_done_are_counted_in_the_month_they_were_approved,
    test_the_dashboard_charts_time_in_state_from_the_known_stays)

RECORDED = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # the fixture clock's today: the import's day


def on(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def story(service, clock, store_env):
    """The same events as the live story, all recorded today, in the order an import would take them (item by
    item, each item's history whole), with when they happened; the AL request's decision day."""
    clock.now = RECORDED
    register_cast(service)
    albania = service.create("support-requests", ALBA, request_values(), occurred_at=on(8, 10)).item
    serbia = service.create("support-requests", MILAN, request_values(party="RS"), occurred_at=on(8, 10)).item.id
    service.act("support-requests", serbia, "start_screening", SARA, {}, occurred_at=on(8, 12))
    service.act("support-requests", serbia, "reject", HANA, {}, reason="Operational involvement",
                occurred_at=on(8, 12))
    histories = {"still": ((date(2026, 12, 15)), [("start", SARA, {}, on(11, 23))]),
                 "late": (date(2026, 9, 15), [("start", SARA, {}, on(9, 20)),
                                              ("submit", SARA, {"result": "Done late"}, on(10, 5)),
                                              ("approve", ERIK, {}, on(10, 6))]),
                 "first": (date(2026, 8, 20), [("start", SARA, {}, on(8, 12)),
                                               ("submit", SARA, {"result": "Done"}, on(8, 14)),
                                               ("approve", ERIK, {}, on(8, 17))])}
    for key, (due, steps) in histories.items():
        task = service.create("tasks", SARA, task_values(title=f"The {key} task", due=due),
                              occurred_at=on(8, 10)).item.id
        for action, actor, values, when in steps:
            service.act("tasks", task, action, actor, values, occurred_at=when)
    runner = ProjectionRunner(service, engine_for(store_env, writer=True), [ItemsProjection(service.mapper.transcoder)])
    runner.setup()
    runner.catch_up(runner.projections[0])
    runner.engine.dispose()
    return albania.fields["decision_due"]
