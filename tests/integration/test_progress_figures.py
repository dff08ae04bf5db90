"""A mandate's progress as the pages draw it (list column, mandate page) and an item's diagram, from the views."""

from __future__ import annotations

import pytest

from api.chart_figures import item_extras, list_progress
from domain.application import WORKFLOWS
from tests.factories import ERIK, SARA, mandate_values, register_cast, task_values


@pytest.fixture
def project(service, items_runner):
    register_cast(service)
    return lambda: items_runner.catch_up(items_runner.projections[0])


def test_a_mandate_with_one_of_its_two_tasks_done_is_half_way_and_one_without_tasks_has_no_percent(
        service, read_models, project):
    halfway = service.record_mandate(SARA, mandate_values()).item
    idle = service.record_mandate(SARA, mandate_values(reference="CoM-2016-01-01/1")).item
    done, _ = (service.create_task(SARA, task_values(mandate_id=str(halfway.id))).item.id for _ in range(2))
    for action, actor, values in (("start", SARA, {}), ("submit", SARA, {"result": "Done"}), ("approve", ERIK, {})):
        service.act("tasks", done, action, actor, values)
    project()
    mandates = WORKFLOWS["mandates"]
    assert list_progress(read_models, mandates, [halfway, idle]) == {str(halfway.id): 50.0, str(idle.id): None}
    assert list_progress(read_models, WORKFLOWS["tasks"], []) == {}
    extras = item_extras(read_models, service.get_item("mandates", halfway.id, SARA))
    assert (extras["progress"]["percent_done"], extras["progress"]["done"], extras["progress"]["open"]) == (50.0, 1, 1)
    assert extras["progress"]["children"] == "tasks"
    assert extras["diagram"].title == "Mandate workflow: now Adopted"


def test_a_task_has_no_progress_of_its_own_only_its_diagram(service, read_models, project):
    task = service.create_task(SARA, task_values()).item
    project()
    extras = item_extras(read_models, service.get_item("tasks", task.id, SARA))
    assert extras["progress"] is None
    assert extras["diagram"].title == "Task workflow: now Open"
