"""Effective time: an event says when the thing happened (`occurred_at`) beside when it was recorded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import ValidationFailed
from domain.mandate import Mandate
from domain.task import Task
from domain.user import User
from tests.factories import SARA, mandate_values, task_values

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
DECIDED = datetime(2015, 5, 5, 10, tzinfo=timezone.utc)


def test_a_live_event_happened_when_it_was_recorded():
    task = Task.start_new(SARA, task_values(), now=NOW)
    (created,) = task.collect_events()
    assert created.occurred_at == created.timestamp == NOW
    assert task.occurred_on == NOW


def test_an_imported_event_keeps_its_past_and_the_item_remembers_its_last():
    mandate = Mandate.start_new(SARA, mandate_values(), now=NOW, occurred_at=DECIDED)
    mandate.act("start", SARA, {}, now=NOW, occurred_at=DECIDED + timedelta(days=30))
    created, started = mandate.collect_events()
    assert (created.occurred_at, created.timestamp) == (DECIDED, NOW)
    assert started.occurred_at == DECIDED + timedelta(days=30)
    assert mandate.occurred_on == DECIDED + timedelta(days=30)


@pytest.mark.parametrize("when, says", [
    (NOW + timedelta(seconds=1), "in the future"),
    (datetime(2015, 5, 5, 10), "no time zone"),
])
def test_an_effective_time_in_the_future_or_without_a_zone_is_refused(when, says):
    with pytest.raises(ValidationFailed, match=says) as refused:
        Mandate.start_new(SARA, mandate_values(), now=NOW, occurred_at=when)
    assert refused.value.field == "occurred_at"


def test_an_event_cannot_have_happened_before_the_items_previous_one():
    mandate = Mandate.start_new(SARA, mandate_values(), now=NOW, occurred_at=DECIDED)
    with pytest.raises(ValidationFailed, match="before the item's previous event"):
        mandate.act("start", SARA, {}, now=NOW, occurred_at=DECIDED - timedelta(days=1))
    assert mandate.state == "adopted" and mandate.version == 1


def test_a_version_1_event_reads_with_its_timestamp_as_when_it_happened():
    state = {"timestamp": NOW, "actor": "admin"}
    User.Event.upcast_v1_v2(state)
    assert state["occurred_at"] == NOW


def test_a_version_1_snapshot_reads_with_its_last_change_as_its_last_event():
    state = {"_modified_on": NOW}
    Mandate.upcast_v1_v2(state)
    assert state["occurred_on"] == NOW
