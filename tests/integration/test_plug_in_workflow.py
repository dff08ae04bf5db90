"""Workflows defined in the tests alone, registered for these tests only: the application creates them with
what they derive, the items view lists them by their facets (one row per value), scopes a Party liaison by
a single `party` or by each of several participants, and a rebuild writes the same rows as the live pass."""

from __future__ import annotations

from datetime import date
from typing import Iterator

import pytest
from sqlalchemy import select

from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from domain.workflow import Action, Field, Workflow
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.items_tables import item_facets
from projections.queries import ReadModels
from projections.runner import ProjectionRunner
from tests.factories import ALBA, MILAN, SARA, register_cast, valid_values
from tests.plug_in_workflow import SiteVisit, visit_values

# Several Parties take part in a patrol: each reads it, as a meeting's participants do.
PATROLS = Workflow(
    name="joint_patrol", collection="joint-patrols", title="Joint patrol", states=("planned", "done"),
    terminal=("done",), readers=("secretariat", "participating_party"), filters=("participants",),
    fields=(Field("title", str, required=True), Field("participants", list, required=True)),
    actions=(Action("plan", (), "planned", ("secretariat",), accepts=("title", "participants"), event="Planned"),
             Action("finish", ("planned",), "done", ("secretariat",), event="Finished")),
)


class JointPatrol(WorkflowItem):
    workflow = PATROLS

    class Planned(WorkflowItem.Created):
        pass

    class Finished(WorkflowItem.Event):
        pass

    def facets(self) -> dict[str, list[str]]:
        return {**super().facets(), "party": list(self.fields["participants"])}


@pytest.fixture(autouse=True)
def plugged_in() -> Iterator[None]:
    """Registered before the application is built (autouse: before `service`), and for these tests only."""
    with WORKFLOW_ITEMS.registered(SiteVisit), WORKFLOW_ITEMS.registered(JointPatrol):
        yield
    assert SiteVisit not in WORKFLOW_ITEMS and JointPatrol not in WORKFLOW_ITEMS


@pytest.fixture
def service(service):
    register_cast(service)
    return service


@pytest.fixture
def runner(service, store_env):
    runner = ProjectionRunner(service, engine_for(store_env, writer=True), [ItemsProjection(service.mapper.transcoder)],
                              batch_size=3, rebuild_batch_size=2)
    runner.setup()
    yield runner
    runner.engine.dispose()


@pytest.fixture
def read_models(runner, store_env, service):
    return ReadModels(engine_for(store_env), service.mapper.transcoder)


def test_the_application_creates_a_plugged_in_item_with_what_it_derives(service):
    visit = service.create("site-visits", SARA, visit_values(visit_on=date(2026, 12, 4))).item
    assert isinstance(visit, SiteVisit) and visit.state == "planned"
    assert visit.fields["report_due"] == date(2026, 12, 11)  # 5 working days after a Friday
    assert service.snapshotting_intervals[SiteVisit] == 20
    service.act("site-visits", visit.id, "visit", SARA, {})
    assert [d["kind"] for d in service.get_item("site-visits", visit.id, SARA).deadlines() if d["open"]] == ["report"]


def test_lists_filter_and_scope_by_facets(service, runner, read_models):
    shkoder = service.create("site-visits", SARA, visit_values()).item
    novi_sad = service.create("site-visits", SARA, visit_values(party="RS", region="Vojvodina")).item
    both = service.create("joint-patrols", SARA, {"title": "Drina", "participants": ["BA", "RS"]}).item
    albanian = service.create("joint-patrols", SARA, {"title": "Prespa", "participants": ["AL", "MK"]}).item
    runner.catch_up(runner.projections[0])

    def ids(collection, actor, **filters):
        return [i.id for i in read_models.list_items(collection, actor, filters)[0]]

    assert ids("site-visits", SARA, region="Vojvodina") == [novi_sad.id]
    assert ids("site-visits", SARA, region="Vojvodina", party="AL") == []
    assert ids("site-visits", ALBA) == [shkoder.id]  # `party` has a column: the fast path, as before
    assert ids("joint-patrols", SARA, participants="RS") == [both.id]
    assert ids("joint-patrols", ALBA) == [albanian.id]  # each participant is a `party` facet
    assert ids("joint-patrols", MILAN) == [both.id]
    assert read_models.counts_readable("joint-patrols", MILAN) == {"planned": 1, "done": 0}
    with runner.engine.connect() as conn:
        rows = conn.execute(select(item_facets.c.name, item_facets.c.value)
                            .where(item_facets.c.item_id == str(both.id))).all()
    assert sorted(rows) == [("participants", "BA"), ("participants", "RS"), ("party", "BA"), ("party", "RS")]


def test_a_rebuild_writes_the_facets_the_live_pass_wrote(service, runner):
    for n in range(3):
        service.create("site-visits", SARA, valid_values(SiteVisit.workflow, region=f"Region {n}"))
    service.create("joint-patrols", SARA, valid_values(PATROLS, participants=["BA", "HR"]))
    projection = runner.projections[0]
    runner.catch_up(projection)

    def facets():
        with runner.engine.connect() as conn:
            return sorted(tuple(row) for row in conn.execute(select(item_facets)))

    live = facets()
    assert len(live) == 3 * 2 + 4
    runner.rebuild(projection)
    assert facets() == live
