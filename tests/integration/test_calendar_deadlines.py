"""The deadlines feed's query on each real store: the dashboard's scoping, `mine`, and the bound."""

from __future__ import annotations

from datetime import date

import pytest

from projections.database import engine_for
from projections.items import ItemsProjection
from projections.queries import ReadModels
from projections.runner import ProjectionRunner
from tests.factories import ADMIN, ALBA, ERIK, MILAN, SARA, register_cast, request_values, task_values


@pytest.fixture
def read_models(service, store_env):
    register_cast(service)
    models = ReadModels(engine_for(store_env), service.mapper.transcoder)
    yield models
    models.engine.dispose()


@pytest.fixture
def catch_up(service, store_env):
    """Bring the items view up to the log."""
    runner = ProjectionRunner(service, engine_for(store_env, writer=True), [ItemsProjection(service.mapper.transcoder)])
    runner.setup()
    yield lambda: runner.catch_up(runner.projections[0])
    runner.engine.dispose()


def test_the_soonest_deadlines_come_first_up_to_the_limit_each_with_its_items_state(service, read_models, catch_up):
    for day in (3, 1, 2):
        service.create_task(ERIK, task_values(title=f"Due on the {day}", due=date(2027, 3, day), assignee="sara"))
    catch_up()

    rows = read_models.calendar_deadlines(SARA, limit=2)
    assert [(r["due"], r["title"], r["state"]) for r in rows] == [
        (date(2027, 3, 1), "Due on the 1", "open"), (date(2027, 3, 2), "Due on the 2", "open")]


def test_a_liaison_reads_their_partys_deadlines_mine_narrows_to_the_assignee_and_admin_reads_none(
        service, read_models, catch_up):
    ours = service.submit_support_request(ALBA, request_values()).item
    theirs = service.submit_support_request(MILAN, request_values(party="RS")).item
    for_sara = service.create_task(ERIK, task_values(assignee="sara")).item
    for_erik = service.create_task(ERIK, task_values(assignee="erik")).item
    catch_up()

    def items_of(actor, **kw):
        return {r["item_id"] for r in read_models.calendar_deadlines(actor, **kw)}

    assert items_of(ALBA) == {str(ours.id)}
    assert items_of(MILAN) == {str(theirs.id)}
    assert items_of(SARA) == {str(i.id) for i in (ours, theirs, for_sara, for_erik)}
    assert items_of(SARA, assignee="sara") == {str(for_sara.id)}
    assert items_of(ADMIN) == set()
