"""The search index and the lists' filters, sorts and words, on each real store (SQLite FTS5, PostgreSQL GIN)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from domain.errors import Forbidden
from projections.search import search as search_table
from tests.factories import ALBA, ERIK, MILAN, SARA, register_cast, request_values, task_values


@pytest.fixture
def service(service):
    register_cast(service)
    return service


@pytest.fixture
def runner(items_runner):
    return items_runner


def caught_up(runner):
    runner.catch_up(runner.projections[0])


def found(read_models, actor, q, **kwargs) -> list[str]:
    return [row["title"] for row in read_models.search(actor, q, **kwargs)[0]]


def test_search_finds_an_item_by_a_word_of_its_description_in_any_form_of_the_word(service, runner, read_models):
    service.create_task(ERIK, task_values(title="Catalogue agreements", description="Survey the border crossings"))
    service.create_task(ERIK, task_values(title="Unrelated", description="Translate the minutes"))
    caught_up(runner)
    assert found(read_models, SARA, "crossing") == ["Catalogue agreements"]
    assert found(read_models, SARA, "surveyed border") == ["Catalogue agreements"]
    assert found(read_models, SARA, "border minutes") == []  # every word must be found


def test_search_puts_the_best_match_first_and_marks_the_words_in_its_snippet(service, runner, read_models):
    service.create_task(ERIK, task_values(title="Mentions drones once", description="A note"))
    service.create_task(ERIK, task_values(title="Drones drones drones", description="Drones over the border"))
    caught_up(runner)
    rows, total = read_models.search(SARA, "drones")
    assert total == 2 and [r["title"] for r in rows] == ["Drones drones drones", "Mentions drones once"]
    assert "\ue000" in rows[0]["snippet"] and rows[0]["collection"] == "tasks" and rows[0]["state"] == "open"


def test_the_index_follows_the_item_as_actions_change_its_texts(service, runner, read_models):
    task = service.create_task(ERIK, task_values(title="Draft the handbook")).item
    caught_up(runner)
    assert found(read_models, SARA, "glossary") == []
    service.act("tasks", task.id, "start", SARA, {})
    service.act("tasks", task.id, "submit", SARA, {"result": "Handbook with a glossary of terms"})
    caught_up(runner)
    assert found(read_models, SARA, "glossary") == ["Draft the handbook"]
    with runner.engine.connect() as conn:
        assert len(conn.execute(select(search_table.c.rowid)).all()) == 1  # one row per item, replaced


def test_a_rebuild_of_the_items_view_rebuilds_the_index_the_same(service, runner, read_models):
    for n in range(6):
        service.create_task(ERIK, task_values(title=f"Task {n}", description=f"Topic number{n} cybercrime"))
    caught_up(runner)
    before = sorted(found(read_models, SARA, "cybercrime", limit=50))
    assert len(before) == 6
    runner.rebuild(runner.projections[0])
    assert sorted(found(read_models, SARA, "cybercrime", limit=50)) == before
    assert found(read_models, SARA, "number3") == ["Task 3"]


def test_a_party_liaison_finds_none_of_another_partys_requests(service, runner, read_models):
    service.submit_support_request(ALBA, request_values(description="Albanian cybercrime training"))
    service.submit_support_request(MILAN, request_values(party="RS", description="Serbian cybercrime training"))
    caught_up(runner)
    alba_found = read_models.search(ALBA, "cybercrime training", limit=100)[0]
    assert [r["title"] for r in alba_found] and all(r["title"].startswith("AL") for r in alba_found)
    assert read_models.list_items("support-requests", ALBA, {}, q="Serbian") == ([], 0)
    assert read_models.list_items("support-requests", ALBA, {"party": ["RS"]}, q="training") == ([], 0)
    assert len(found(read_models, SARA, "cybercrime training")) == 2
    # The EWG reads no support requests: searching them is refused, and the general search leaves them out.
    assert found(read_models, ERIK, "cybercrime") == []
    with pytest.raises(Forbidden):
        read_models.list_items("support-requests", ERIK, {}, q="cybercrime")


def test_lists_take_several_values_per_filter_words_and_a_sort(service, runner, read_models):
    early = service.create_task(ERIK, task_values(title="Early", due=date(2026, 12, 1), assignee="sara")).item
    late = service.create_task(ERIK, task_values(title="Late", due=date(2027, 6, 1), assignee="erik")).item
    none = service.create_task(ERIK, task_values(title="Undated", due=None, assignee="erik")).item
    service.act("tasks", late.id, "start", ERIK, {})
    caught_up(runner)

    def titles(filters, **kwargs):
        return [t.fields["title"] for t in read_models.list_items("tasks", SARA, filters, **kwargs)[0]]

    assert titles({"state": ["open", "in_progress"]}, sort="due") == ["Early", "Late", "Undated"]
    assert titles({}, sort="-due") == ["Late", "Early", "Undated"]  # no due day: last either way
    assert titles({"state": ["in_progress"]}) == ["Late"]
    assert titles({"assignee": ["sara", "erik"]}, sort="title") == ["Early", "Late", "Undated"]
    assert titles({"assignee": ["erik"]}, q="undated") == ["Undated"]
    assert titles({}) == ["Undated", "Late", "Early"]  # newest first
    assert {str(t.id) for t in read_models.list_items("tasks", SARA, {}, sort="-updated_at")[0]} == {
        str(early.id), str(late.id), str(none.id)}
