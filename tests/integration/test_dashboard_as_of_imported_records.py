"""The dashboard as of an instant, over a log where an import of past records mixes with live work, is what
replaying each item's events that had happened by then gives.

The same random walk through every workflow as tests/integration/test_dashboard_as_of.py, but most commands
carry an `occurred_at` years back (each item's history in order, as an import records it), some are live, and
the server's clock now and then steps back: the log's order is then far from the order things happened in.
The oracle (tests/as_of_replay.py) replays, in log order, each item's events up to its first one that
happened after the instant.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from projections.as_of import dashboard_as_of
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.runner import ProjectionRunner
from tests.factories import HANA, register_cast
from tests.integration.test_dashboard_as_of import (
    TZ, assert_every_dashboard_equals_the_replay, logged_events, projecting_in_batches,
)
from tests.integration.test_view_matches_replay import walk

MICROSECOND = timedelta(microseconds=1)
YEARS_BACK = timedelta(days=3000)


class Importing:
    """The service, with most commands dated in the past: an item's first event up to YEARS_BACK before now,
    each later one between the item's previous event and now (leaning towards the previous)."""

    def __init__(self, service: Any, clock: Any, rng: random.Random) -> None:
        self.service, self.clock, self.rng = service, clock, rng

    def __getattr__(self, name: str) -> Any:
        return getattr(self.service, name)

    def create(self, collection: str, actor: Any, values: Any, **options: Any) -> Any:
        return self.service.create(collection, actor, values, occurred_at=self._when(None), **options)

    def act(self, collection: str, item_id: Any, action: str, actor: Any, values: Any, **options: Any) -> Any:
        previous = self.service.repository.get(item_id).occurred_on
        return self.service.act(collection, item_id, action, actor, values, occurred_at=self._when(previous),
                                **options)

    def _when(self, previous: datetime | None) -> datetime | None:
        now = self.clock()
        if self.rng.random() < 0.25:
            return None  # live work
        earliest = previous if previous is not None and previous <= now else now - YEARS_BACK
        return earliest + (now - earliest) * self.rng.random() ** 3


def instants_to_ask(events: list[tuple[int, Any]], rng: random.Random) -> list[datetime]:
    happened = [event.occurred_at for _, event in events]
    asked = [s + d for s in rng.sample(happened, 12) for d in (-MICROSECOND, timedelta(0), MICROSECOND)]
    first, last = min(happened), max(happened)
    asked += [first + (last - first) * rng.random() for _ in range(12)]
    asked += [first - MICROSECOND, last, last + timedelta(days=3650)]
    return [a.astimezone(timezone(timedelta(hours=rng.choice([-11, 0, 2, 14])))) for a in asked]


@pytest.fixture
def runner(service, store_env):
    register_cast(service)
    runner = ProjectionRunner(service, engine_for(store_env, writer=True),
                              [ItemsProjection(service.mapper.transcoder)])
    runner.setup()
    yield runner
    runner.engine.dispose()


@pytest.mark.parametrize("seed", [7, 8])
def test_the_dashboard_as_of_any_instant_over_imported_records_equals_the_replay(service, runner, clock, store_env,
                                                                                seed):
    rng = random.Random(seed)
    projection = runner.projections[0]
    walk(Importing(service, clock, rng), clock, rng, 300,
         between=projecting_in_batches(runner, clock, rng, clock_steps_back=0.2))
    runner.batch_size = rng.choice([3, 17, 1000])
    runner.catch_up(projection)
    engine = engine_for(store_env)
    try:
        events = logged_events(service)
        late = sum(1 for (_, a), (_, b) in zip(events, events[1:]) if b.occurred_at < a.occurred_at)
        assert late > 20  # the log is far from the order things happened in
        asked = instants_to_ask(events, rng)
        assert_every_dashboard_equals_the_replay(service, engine, asked, events)
        # A rebuild from zero (in memory, then written whole) answers as the history kept batch by batch.
        kept = [dashboard_as_of(engine, HANA, instant, TZ) for instant in asked]
        runner.rebuild(projection)
        assert [dashboard_as_of(engine, HANA, instant, TZ) for instant in asked] == kept
    finally:
        engine.dispose()

