"""A mandate whose history is imported today reads, everywhere one asks "when", as it happened years ago.

Recorded on 5 May 2015, started on 1 June 2015, reported on 1 February 2016 and fulfilled on 1 March 2016; all
four events recorded on 23 November 2026 (the fixture clock's today) with those days as their `occurred_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import NotFound
from projections.as_of import dashboard_as_of
from report.replay import ItemLog
from tests.factories import HANA, SARA, mandate_values
from tests.integration.test_dashboard_as_of import TZ

DAY = 86400
RECORDED = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
HAPPENED = {"record": datetime(2015, 5, 5, 10, 0, tzinfo=timezone.utc),
            "start": datetime(2015, 6, 1, 10, 0, tzinfo=timezone.utc),
            "report": datetime(2016, 2, 1, 10, 0, tzinfo=timezone.utc),
            "fulfil": datetime(2016, 3, 1, 10, 0, tzinfo=timezone.utc)}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def mandate(service, clock, items_runner):
    """The imported mandate's id, projected (after a live one, so that the import is recorded out of order)."""
    clock.now = RECORDED
    service.create("mandates", SARA, mandate_values(reference="CoM-2026-11/1", title="Live"))
    item = service.create("mandates", SARA, mandate_values(), occurred_at=HAPPENED["record"]).item
    service.act("mandates", item.id, "start", SARA, {}, occurred_at=HAPPENED["start"])
    service.act("mandates", item.id, "report", SARA, {"summary": "Done"}, occurred_at=HAPPENED["report"])
    service.act("mandates", item.id, "fulfil", HANA, {}, occurred_at=HAPPENED["fulfil"])
    items_runner.catch_up(items_runner.projections[0])
    return item.id


def test_the_item_as_of_an_instant_is_as_it_stood_then(service, mandate):
    assert service.get_item("mandates", mandate, SARA, as_of=at("2015-07-01T00:00:00Z")).state == "in_progress"
    assert service.get_item("mandates", mandate, SARA, as_of=at("2016-02-15T00:00:00Z")).state == "reported"
    assert service.get_item("mandates", mandate, SARA, as_of=RECORDED - timedelta(days=1)).state == "fulfilled"
    with pytest.raises(NotFound):
        service.get_item("mandates", mandate, SARA, as_of=at("2015-05-04T00:00:00Z"))


def test_the_history_says_when_each_event_happened_beside_when_it_was_recorded(service, mandate):
    events = service.history("mandates", mandate, SARA)
    assert [e["occurred_at"] for e in events] == list(HAPPENED.values())
    assert {e["at"] for e in events} == {RECORDED}


def test_the_dashboard_as_of_an_instant_counts_it_in_the_state_it_was_in(read_models, mandate):
    counted = dashboard_as_of(read_models.engine, HANA, at("2016-01-01T00:00:00Z"), TZ)
    assert counted["counts"]["mandates"]["in_progress"] == 1 and counted["counts"]["mandates"]["adopted"] == 0
    assert [m["id"] for m in counted["mandates"]] == [str(mandate)]  # the live one was not recorded yet
    before = dashboard_as_of(read_models.engine, HANA, at("2015-05-01T00:00:00Z"), TZ)
    assert sum(before["counts"]["mandates"].values()) == 0
    after = dashboard_as_of(read_models.engine, HANA, at("2016-06-01T00:00:00Z"), TZ)
    assert after["counts"]["mandates"]["fulfilled"] == 1 and after["mandates"] == []


def test_time_in_state_is_the_days_it_lasted_not_the_seconds_the_import_took(read_models, mandate):
    stays = read_models.time_in_state()["mandates"]
    assert stays["adopted"]["median_seconds"] == pytest.approx(27 * DAY, rel=0.09)
    assert stays["in_progress"]["median_seconds"] == pytest.approx(245 * DAY, rel=0.09)
    assert stays["reported"]["median_seconds"] == pytest.approx(29 * DAY, rel=0.09)
    as_of = dashboard_as_of(read_models.engine, HANA, at("2016-01-01T00:00:00Z"), TZ)["time_in_state"]["mandates"]
    assert as_of["adopted"]["median_seconds"] == pytest.approx(27 * DAY, rel=0.09) and "in_progress" not in as_of


def test_the_meeting_reports_replay_reads_it_as_it_stood_then(service, mandate):
    timeline = ItemLog(service).timelines("mandates")[mandate]
    assert timeline.as_of(at("2015-07-01T00:00:00Z")).state == "in_progress"
    steps = list(timeline.steps_between(at("2015-07-01T00:00:00Z"), at("2016-12-31T00:00:00Z")))
    assert [(s.at, s.state_after) for s in steps] == [(HAPPENED["report"], "reported"),
                                                      (HAPPENED["fulfil"], "fulfilled")]
