"""The items read model on each real store: what each event does to it, exactly once, whatever crashes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from projections import tracking
from projections.database import engine_for
from projections.as_of import dashboard_as_of
from projections.items import ItemsProjection
from projections.items_tables import items
from projections.runner import ProjectionRunner
from tests.factories import (ALBA, AUDREY, ERIK, HANA, MILAN, SARA, mandate_values, register_cast, request_values,
                             task_values)


@pytest.fixture
def service(service):
    register_cast(service)
    return service


@pytest.fixture
def runner(service, store_env):
    runner = ProjectionRunner(service, engine_for(store_env, writer=True),
                              [ItemsProjection(service.mapper.transcoder)], batch_size=7,
                              rebuild_batch_size=5)
    runner.setup()
    yield runner
    runner.engine.dispose()


def some_history(service) -> dict:
    """A little of everything: every collection, several states, a linked task, other aggregates' events."""
    mandate = service.record_mandate(SARA, mandate_values(report_due=date(2027, 3, 1))).item
    linked = service.create_task(ERIK, task_values(mandate_id=str(mandate.id))).item
    loose = service.create_task(ERIK, task_values(title="Loose", assignee="erik")).item
    service.act("tasks", linked.id, "start", SARA, {})
    service.act("tasks", linked.id, "submit", SARA, {"result": "Done"})
    service.act("tasks", linked.id, "approve", ERIK, {})
    service.act("mandates", mandate.id, "start", ERIK, {})
    own = service.submit_support_request(ALBA, request_values()).item
    other = service.submit_support_request(MILAN, request_values(party="RS", kind="logistical", amount_eur=None)).item
    service.act("support-requests", own.id, "start_screening", SARA, {})
    service.act("support-requests", other.id, "withdraw", MILAN, {}, reason="Solved bilaterally")
    service.grant_role("erik", "secretariat", actor=AUDREY.__class__("admin", frozenset({"admin"})))
    return {"mandate": mandate, "linked": linked, "loose": loose, "own": own, "other": other}


def view_rows(runner) -> dict:
    with runner.engine.connect() as conn:
        return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                for table in runner.projections[0].tables}


def test_the_view_shows_each_item_as_its_events_left_it(service, runner, read_models):
    made = some_history(service)
    runner.catch_up(runner.projections[0])
    assert runner.lag() == {"items": 0}
    tasks, total = read_models.list_items("tasks", SARA, {})
    assert total == 2 and [t.id for t in tasks] == [made["loose"].id, made["linked"].id]
    assert [(t.state, t.version) for t in tasks] == [("open", 1), ("done", 4)]
    for item in tasks:  # the view's copy answers as the replayed aggregate does
        replayed = service.get_item("tasks", item.id, SARA)
        assert (item.fields, item.state, item.allowed_actions(SARA), item.deadlines()) == (
            replayed.fields, replayed.state, replayed.allowed_actions(SARA), replayed.deadlines())
    assert read_models.list_items("tasks", SARA, {"assignee": "erik"})[1] == 1
    assert read_models.list_items("tasks", SARA, {"state": "done", "mandate_id": str(made["mandate"].id)})[1] == 1
    counts = read_models.counts()
    assert counts["tasks"]["done"] == 1 and counts["tasks"]["open"] == 1 and counts["mandates"]["in_progress"] == 1
    assert counts["support-requests"]["screening"] == 1 and counts["support-requests"]["withdrawn"] == 1
    assert read_models.mandate_progress([str(made["mandate"].id)]) == {str(made["mandate"].id): {"done": 1}}


def test_a_party_liaison_lists_only_their_own_partys_requests(service, runner, read_models):
    made = some_history(service)
    runner.catch_up(runner.projections[0])
    assert [r.id for r in read_models.list_items("support-requests", ALBA, {})[0]] == [made["own"].id]
    assert read_models.list_items("support-requests", ALBA, {"party": "RS"}) == ([], 0)
    assert read_models.list_items("support-requests", HANA, {})[1] == 2
    with pytest.raises(Exception, match="reading support-requests needs"):
        read_models.list_items("support-requests", ERIK, {})


def test_a_liaisons_counts_by_state_are_of_their_own_partys_requests(service, runner, read_models):
    some_history(service)
    runner.catch_up(runner.projections[0])
    assert {s: n for s, n in read_models.counts_readable("support-requests", ALBA).items() if n} == {"screening": 1}
    assert {s: n for s, n in read_models.counts_readable("support-requests", HANA).items() if n} == {
        "screening": 1, "withdrawn": 1}
    with pytest.raises(Exception, match="reading support-requests needs"):
        read_models.counts_readable("support-requests", ERIK)


def test_open_deadlines_follow_the_items_state(service, runner, read_models):
    made = some_history(service)
    runner.catch_up(runner.projections[0])
    open_ones = {(d["item_id"], d["kind"]) for d in read_models.open_deadlines()}
    assert (str(made["loose"].id), "due") in open_ones
    assert (str(made["linked"].id), "due") not in open_ones  # done
    assert (str(made["mandate"].id), "report_due") in open_ones
    assert (str(made["own"].id), "decision") in open_ones
    assert (str(made["other"].id), "decision") not in open_ones  # withdrawn


def test_a_mandates_progress_counts_its_tasks_as_they_move(service, runner, read_models):
    mandate = str(service.record_mandate(SARA, mandate_values()).item.id)
    first, second, _third = (service.create_task(ERIK, task_values(mandate_id=mandate)).item for _ in range(3))
    service.create_task(ERIK, task_values())  # linked to no mandate: counted nowhere
    service.act("tasks", first.id, "start", SARA, {})
    service.act("tasks", second.id, "cancel", HANA, {}, reason="Overtaken by events")
    runner.catch_up(runner.projections[0])
    assert read_models.mandate_progress([mandate]) == {mandate: {"open": 1, "in_progress": 1, "cancelled": 1}}
    service.act("tasks", first.id, "submit", SARA, {"result": "Done"})
    service.act("tasks", first.id, "approve", ERIK, {})
    runner.catch_up(runner.projections[0])
    assert read_models.mandate_progress([mandate]) == {mandate: {"open": 1, "done": 1, "cancelled": 1}}


def test_a_liaisons_dashboard_lists_their_partys_deadlines_however_many_others_come_first(
        service, runner, read_models, clock):
    for _ in range(3):
        service.submit_support_request(MILAN, request_values(party="RS"))
    clock.advance(days=1)
    own = service.submit_support_request(ALBA, request_values()).item
    runner.catch_up(runner.projections[0])
    scopes = {"support-requests": {"party": "AL"}, "tasks": None, "mandates": None}
    assert [d["item_id"] for d in read_models.open_deadlines(scopes=scopes, limit=1)] == [str(own.id)]
    assert read_models.open_deadlines(limit=1)[0]["party"] == "RS"  # unscoped, another Party's comes first
    dashboard = read_models.dashboard(ALBA, clock.now.date() + timedelta(days=30))
    assert [d["item_id"] for d in dashboard["overdue"]] == [str(own.id)]
    assert dashboard["upcoming"] == [] and "tasks" not in dashboard["counts"]


def test_a_second_runner_on_the_same_view_never_applies_a_batch_twice(service, runner, store_env):
    some_history(service)
    rival = ProjectionRunner(service, engine_for(store_env, writer=True), runner.projections, batch_size=3)
    threads = [threading.Thread(target=r.catch_up, args=(r.projections[0],)) for r in (runner, rival)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    live = view_rows(runner)
    assert runner.rebuild(runner.projections[0]) > 0
    assert view_rows(runner) == live
    rival.engine.dispose()


class Crash(Exception):
    pass


def test_a_crash_mid_batch_rolls_back_and_a_restart_converges_to_a_clean_rebuild(service, runner, store_env):
    some_history(service)
    projection = runner.projections[0]
    runner.run_batch(projection)  # one good batch first
    committed = runner.positions()["items"]

    original = projection.handle

    def crash_after_writing(conn, batch):
        original(conn, batch)  # rows written in the transaction...
        raise Crash()  # ...then the process dies before the commit

    projection.handle = crash_after_writing
    with pytest.raises(Crash):
        runner.run_batch(projection)
    projection.handle = original
    assert runner.positions()["items"] == committed

    restarted = ProjectionRunner(service, engine_for(store_env, writer=True), [projection])
    restarted.catch_up(projection)
    after_restart = view_rows(restarted)
    restarted.rebuild(projection)
    assert view_rows(restarted) == after_restart
    restarted.engine.dispose()


# Run in a child process: project in batches of 5 and, in the third, write the rows, say so, and
# hang inside the open transaction until killed.
HANGS_MID_BATCH = """
import json, sys, time
from domain.application import SecretariatApplication
from domain.calendar import BusinessCalendar
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.runner import ProjectionRunner

env = json.loads(sys.argv[1])
service = SecretariatApplication(env, hasher=None, calendar=BusinessCalendar())
projection = ItemsProjection(service.mapper.transcoder)
batches = 0

def handle(conn, batch):
    global batches
    batches += 1
    ItemsProjection.handle(projection, conn, batch)
    if batches == 3:
        print("mid-batch", flush=True)
        time.sleep(600)

projection.handle = handle
ProjectionRunner(service, engine_for(env, writer=True), [projection], batch_size=5).catch_up(projection)
"""


def test_a_process_killed_mid_batch_leaves_its_last_commit_and_a_restart_converges(service, runner, store_env):
    some_history(service)
    child = subprocess.Popen([sys.executable, "-c", HANGS_MID_BATCH, json.dumps(store_env)],
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert child.stdout.readline().strip() == "mid-batch"
    finally:
        child.kill()  # SIGKILL: no rollback, no clean-up, as in a crash
        child.wait(timeout=30)
    assert runner.positions()["items"] == 10  # two batches of 5 committed; the third never was

    runner.catch_up(runner.projections[0])
    after_restart = view_rows(runner)
    runner.rebuild(runner.projections[0])
    assert view_rows(runner) == after_restart
    assert runner.lag() == {"items": 0}


def test_events_a_view_ignores_still_move_its_position(service, runner):
    service.grant_role("erik", "head", actor=AUDREY.__class__("admin", frozenset({"admin"})))
    runner.catch_up(runner.projections[0])
    assert runner.positions()["items"] == runner.head() and runner.lag() == {"items": 0}
    with runner.engine.connect() as conn:
        assert conn.execute(select(items)).all() == []


def test_a_moved_position_refuses_the_batch(service, runner):
    some_history(service)
    with runner.engine.begin() as conn:
        tracking.advance(conn, "items", 0, 3)
        with pytest.raises(tracking.PositionMoved):
            tracking.advance(conn, "items", 0, 5)


def test_a_waiting_reader_sees_its_write_once_projected(service, runner, read_models):
    stop = threading.Event()
    follower = threading.Thread(target=runner.follow, args=(stop,), kwargs={"poll_seconds": 5})
    follower.start()
    try:
        outcome = service.create_task(ERIK, task_values(title="Read me"))
        runner.wake()
        assert runner.wait_for(outcome.position, timeout=5)
        assert read_models.list_items("tasks", SARA, {})[0][0].fields["title"] == "Read me"
    finally:
        stop.set()
        follower.join()


def test_time_in_state_gives_the_median_and_90th_percentile_of_finished_stays(service, runner, read_models, clock):
    for hours_open in (1, 2, 3, 4, 10):
        task = service.create_task(ERIK, task_values()).item
        clock.advance(hours=hours_open)
        service.act("tasks", task.id, "start", SARA, {})
    runner.catch_up(runner.projections[0])
    open_stays = read_models.time_in_state()["tasks"]["open"]
    assert open_stays["samples"] == 5
    assert abs(open_stays["median_seconds"] - 3 * 3600) <= 0.09 * 3 * 3600
    assert abs(open_stays["p90_seconds"] - 10 * 3600) <= 0.09 * 10 * 3600
    assert "in_progress" not in read_models.time_in_state()["tasks"]  # no stay there has ended yet


def test_the_dashboard_as_of_an_instant_is_what_the_dashboard_showed_then(service, runner, read_models, clock):
    some_history(service)
    runner.catch_up(runner.projections[0])
    then = clock.now
    today = then.astimezone(ZoneInfo("Europe/Ljubljana")).date()
    shown_then = read_models.dashboard(HANA, today)
    clock.advance(hours=5)
    later = service.create_task(ERIK, task_values(title="Later")).item
    service.act("tasks", later.id, "cancel", HANA, {}, reason="Not needed")
    runner.catch_up(runner.projections[0])
    assert read_models.dashboard(HANA, today) != shown_then
    replayed = dashboard_as_of(read_models.engine, HANA, then, ZoneInfo("Europe/Ljubljana"))
    assert replayed.pop("as_of") == then
    assert replayed == shown_then
    before_anything = dashboard_as_of(read_models.engine, HANA, then - timedelta(days=365),
                                      ZoneInfo("Europe/Ljubljana"))
    assert all(n == 0 for states in before_anything["counts"].values() for n in states.values())


def test_a_changed_view_definition_is_rebuilt_from_the_first_event(service, runner, store_env):
    some_history(service)
    runner.catch_up(runner.projections[0])
    built = view_rows(runner)
    projection = ItemsProjection(service.mapper.transcoder)
    projection.version = runner.projections[0].version + 1
    upgraded = ProjectionRunner(service, engine_for(store_env, writer=True), [projection])
    upgraded.setup()
    assert upgraded.positions() == {"items": upgraded.head()}
    with upgraded.engine.connect() as conn:
        assert tracking.version_of(conn, "items") == projection.version
    assert view_rows(upgraded) == built
    upgraded.engine.dispose()


def test_during_a_rebuild_the_live_view_keeps_answering_and_following(service, runner, read_models):
    made = some_history(service)
    runner.catch_up(runner.projections[0])
    answers = []

    def meanwhile(_count):
        answers.append(read_models.list_items("tasks", SARA, {})[1])
        if len(answers) == 1:  # a command arrives mid-rebuild, and the live view takes it in
            service.act("tasks", made["loose"].id, "start", SARA, {})
            runner.run_batch(runner.projections[0])

    live_before = view_rows(runner)
    runner.rebuild(runner.projections[0], progress=meanwhile)
    assert len(answers) >= 2 and all(total == 2 for total in answers)
    rebuilt = view_rows(runner)
    assert rebuilt != live_before  # the start that came meanwhile is in it
    assert read_models.list_items("tasks", SARA, {"state": "in_progress"})[1] == 1
    assert runner.positions()["items"] == runner.head()
    runner.rebuild(runner.projections[0])
    assert view_rows(runner) == rebuilt
