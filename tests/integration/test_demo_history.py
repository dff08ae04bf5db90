"""`secretariat demo` imports the Secretariat's history from its file: safe to run twice, in time order, made
of the demo users' acts, with open work due in the coming weeks and stays measured in days."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from domain.registry import WORKFLOW_ITEMS
from secretariat.demo import USERS, history_lines, ref_id, resolve_relative, seed, story

TZ = ZoneInfo("Europe/Ljubljana")
DAY = 86_400
CREATING = {cls.workflow.collection: cls.workflow.creating_action.name for cls in WORKFLOW_ITEMS}


def test_the_demo_twice_adds_nothing_the_second_time(service):
    assert seed(service) > 30  # users, the end-of-year closures, and the story's items
    events = service.recorder.max_notification_id()
    assert events > 150
    assert seed(service) == 0
    assert service.recorder.max_notification_id() == events


def test_the_file_reads_as_a_history_of_the_demo_users_in_time_order():
    now = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    lines = resolve_relative(history_lines(), now=now, tz=TZ)
    previous: dict[str, datetime] = {}
    users = {name for name, _, _ in USERS}
    for line in lines:
        when = datetime.fromisoformat(line["occurred_at"])
        assert when.utcoffset() is not None and when <= now, line
        assert line["actor"] in users, line
        if line["ref"] not in previous:
            assert line["action"] == CREATING[line["collection"]], line
        else:
            assert when >= previous[line["ref"]], line
        previous[line["ref"]] = when
    assert min(datetime.fromisoformat(line["occurred_at"]) for line in lines).year == 2008  # Vienna, 17 July
    assert {line["values"].get("party") for line in lines if line["action"] == "submit"} >= {"AL", "RS", "BA", "ME",
                                                                                             "MK"}


def test_open_work_falls_due_in_the_coming_weeks_whatever_day_the_demo_runs(service, clock):
    seed(service)
    today = clock().astimezone(service.tz).date()
    auditor = service.user("audrey").as_actor()
    open_dates = []
    for collection, kind, field in (("tasks", "task", "due"), ("support-requests", "request", "needed_by")):
        for key, _values in story(collection):
            item = service.get_item(collection, ref_id(f"{kind}:{key}"), auditor)
            if not item.is_closed and item.fields.get(field):
                open_dates.append((key, item.fields[field]))
    assert open_dates and all(today - timedelta(days=7) <= due <= today + timedelta(days=91)
                              for _key, due in open_dates), open_dates
    assert any(today < due <= today + timedelta(days=31) for _key, due in open_dates)  # the coming weeks


def test_time_in_state_is_measured_in_days(service, items_runner, read_models):
    """Needs the projections to measure stays by when things happened (occurred_at, branch i13-effective)."""
    seed(service)
    items_runner.catch_up(items_runner.projections[0])
    stays = read_models.time_in_state()
    assert stays["tasks"]["in_progress"]["median_seconds"] > 7 * DAY
    assert stays["support-requests"]["screening"]["median_seconds"] > DAY
    assert stays["mandates"]["in_progress"]["median_seconds"] > 100 * DAY
