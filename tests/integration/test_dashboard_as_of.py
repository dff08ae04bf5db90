"""The dashboard as of an instant, read from the items view's history, is what replaying the log up to it gives.

The oracle (tests/as_of_replay.py) is the implementation the history replaced: it projects
every event up to the instant into a private view and reads it with the live dashboard's
query. A seeded random walk through every workflow, with the clock now and then set back
(so that event times are not in log order), is projected in batches of random sizes; then
both answer at many instants (just before, at and just after events, in between, before
anything and after everything), for every role, including each Party's liaison.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from projections.as_of import dashboard_as_of
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.queries import ReadModels
from projections.runner import ProjectionRunner
from tests.as_of_replay import dashboards_as_of as replayed_dashboards_as_of
from tests.factories import CAST, HANA, register_cast
from tests.integration.test_view_matches_replay import walk

TZ = ZoneInfo("Europe/Ljubljana")
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
def runner(service, store_env):
    register_cast(service)
    runner = ProjectionRunner(service, engine_for(store_env, writer=True),
                              [ItemsProjection(service.mapper.transcoder)])
    runner.setup()
    yield runner
    runner.engine.dispose()


def logged_events(service) -> list[tuple[int, object]]:
    return [(n.id, service.mapper.to_domain_event(n)) for n in service.recorder.select_notifications(1, 100_000)]


def instants_to_ask(events: list[tuple[int, object]], rng: random.Random) -> list[datetime]:
    stamps = [event.timestamp for _, event in events]
    chosen = rng.sample(stamps, 12)
    asked = [s + d for s in chosen for d in (-MICROSECOND, timedelta(0), MICROSECOND)]
    first, last = min(stamps), max(stamps)
    asked += [first + (last - first) * rng.random() for _ in range(10)]
    asked += [first - timedelta(days=400), first - MICROSECOND, last, last + timedelta(days=3650)]
    # Some in another offset: the same instant, and the day it falls on where the secretariat is.
    return [a.astimezone(timezone(timedelta(hours=rng.choice([-11, 0, 2, 14])))) for a in asked]


@pytest.mark.parametrize("seed", [3, 4])
def test_the_dashboard_as_of_any_instant_equals_the_replay_of_the_log_up_to_it(service, runner, clock, store_env,
                                                                              seed):
    rng = random.Random(seed)
    projection = runner.projections[0]
    walk(service, clock, rng, 300, between=projecting_in_batches(runner, clock, rng, clock_steps_back=0.3))
    runner.batch_size = rng.choice([3, 17, 1000])
    runner.catch_up(projection)
    engine = engine_for(store_env)
    try:
        events = logged_events(service)
        assert_every_dashboard_equals_the_replay(service, engine, instants_to_ask(events, rng), events)
    finally:
        engine.dispose()


def projecting_in_batches(runner, clock, rng: random.Random, *, clock_steps_back: float):
    """What a walk does between commands: the projection runs a batch of some size, and now and then the server's
    clock steps back (by up to 15 hours)."""
    def project_some_and_unsettle_the_clock():
        runner.batch_size = rng.choice([1, 4, 9, 50])
        runner.run_batch(runner.projections[0])
        if rng.random() < clock_steps_back:
            clock.advance(minutes=-rng.randint(1, 900))
    return project_some_and_unsettle_the_clock


def assert_every_dashboard_equals_the_replay(service, engine, asked: list, events: list) -> None:
    """Every user's dashboard as of each instant asked is the replay's; and the instants fell where there was
    something to show."""
    nonempty = 0
    for instant in asked:
        for actor, expected in zip(CAST, replayed_dashboards_as_of(service, CAST, instant, TZ, events)):
            assert dashboard_as_of(engine, actor, instant, TZ) == expected, (instant, actor)
            nonempty += bool(expected["overdue"] or expected["upcoming"]) and bool(expected["mandates"])
    assert nonempty > len(asked)


def test_a_rebuilt_history_answers_as_the_one_kept_batch_by_batch(service, runner, clock, store_env):
    rng = random.Random(5)
    runner.batch_size = 7
    walk(service, clock, rng, 200, between=lambda: runner.run_batch(runner.projections[0]))
    runner.catch_up(runner.projections[0])
    engine = engine_for(store_env)
    try:
        asked = instants_to_ask(logged_events(service), rng)
        kept = [dashboard_as_of(engine, HANA, instant, TZ) for instant in asked]
        runner.rebuild(runner.projections[0])
        assert [dashboard_as_of(engine, HANA, instant, TZ) for instant in asked] == kept
    finally:
        engine.dispose()


def test_instants_at_the_ends_of_the_calendar_answer_without_an_error(service, runner, clock, store_env):
    walk(service, clock, random.Random(6), 60)
    runner.catch_up(runner.projections[0])
    read_models = ReadModels(engine_for(store_env), service.mapper.transcoder)
    try:
        latest = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
        at_the_end = dashboard_as_of(read_models.engine, HANA, latest, TZ)
        now = read_models.dashboard(HANA, clock.now.astimezone(TZ).date())
        assert at_the_end["counts"] == now["counts"] and at_the_end["mandates"] == now["mandates"]
        assert at_the_end["upcoming"] == []  # nothing is due in the last fortnight of year 9999
        earliest = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
        at_the_start = dashboard_as_of(read_models.engine, HANA, earliest, TZ)
        assert at_the_start["as_of"] == earliest
        assert all(n == 0 for states in at_the_start["counts"].values() for n in states.values())
        assert at_the_start["overdue"] == at_the_start["upcoming"] == at_the_start["mandates"] == []
    finally:
        read_models.engine.dispose()
