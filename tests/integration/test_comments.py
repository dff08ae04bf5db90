"""Comments below HTTP, on each real store: a comment is an event in its item's history; who may write one;
and an `@username` reaches that user's inbox and mailbox only if they may read the item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterator

import pytest
from sqlalchemy import Engine

from domain.errors import Forbidden, NotFound, RuleBroken, ValidationFailed
from domain.item import MAX_COMMENT_CHARACTERS, MAX_COMMENTS_PER_ITEM
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.queries import ReadModels
from projections.reminders import RemindersProjection
from projections.runner import ProjectionRunner
from scheduler.outbox import DeliveriesProjection
from tests.factories import ADMIN, ALBA, AUDREY, ERIK, HANA, MILAN, SARA, register_cast, request_values, task_values
from tests.integration.test_delivery import email, mailbox, worker  # noqa: F401  (mailbox: a real aiosmtpd server)


@pytest.fixture
def service(service):
    register_cast(service)
    for name in ("hana", "milan"):
        service.change_email(name, f"{name}@pccsee.example", actor=ADMIN)
    return service


@dataclass
class Views:
    """The items, reminders and deliveries views over the test's store, as `secretariat serve` keeps them."""

    runner: ProjectionRunner
    read_models: ReadModels
    engine: Engine  # the writer's

    def catch_up(self) -> None:
        for projection in self.runner.projections:
            self.runner.catch_up(projection)


@pytest.fixture
def views(service, store_env) -> Iterator[Views]:
    engine = engine_for(store_env, writer=True)
    runner = ProjectionRunner(service, engine, [ItemsProjection(service.mapper.transcoder), RemindersProjection(),
                                                DeliveriesProjection()])
    runner.setup()
    views = Views(runner, ReadModels(engine_for(store_env), service.mapper.transcoder), engine)
    yield views
    views.read_models.engine.dispose()
    engine.dispose()


def test_a_comment_is_an_event_on_its_item_and_in_its_history(service, clock):
    task = service.create_task(ERIK, task_values(assignee="sara")).item
    added = service.comment("tasks", task.id, SARA, "  **Agenda** drafted; see the minutes  ")
    assert added.outcome.status == 201 and added.not_notified == []
    item = service.get_item("tasks", task.id, ERIK)
    assert item.comments == [{"comment_id": added.comment["comment_id"], "text": "**Agenda** drafted; see the minutes",
                              "mentions": [], "author": "sara", "at": clock()}]
    last = service.history("tasks", task.id, ERIK)[-1]
    assert last["type"].endswith("CommentAdded") and last["actor"] == "sara"
    assert last["data"]["text"] == "**Agenda** drafted; see the minutes"
    assert last["state_before"] == last["state_after"] == item.state  # a comment changes no state


def test_readers_who_may_act_comment_and_nobody_else_learns_the_item_exists(service):
    request = service.submit_support_request(ALBA, request_values(party="AL")).item
    service.comment("support-requests", request.id, ALBA, "The amount includes travel.")
    service.comment("support-requests", request.id, SARA, "Received; screening next week.")
    with pytest.raises(Forbidden, match="commenting on a support request needs a role that may act on it"):
        service.comment("support-requests", request.id, AUDREY, "An auditor never changes items")
    nothing = "00000000-0000-4000-8000-000000000000"
    refusals = []
    for actor, item_id in ((MILAN, request.id), (ERIK, request.id), (MILAN, nothing)):  # another Party, the EWG
        with pytest.raises(NotFound) as hidden:
            service.comment("support-requests", item_id, actor, "Is this one there?")
        refusals.append(str(hidden.value).replace(str(item_id), "ID"))
    assert refusals == ["no support request with id ID"] * 3
    assert [c["author"] for c in service.get_item("support-requests", request.id, ALBA).comments] == ["alba", "sara"]


def test_an_empty_or_overlong_comment_is_refused_naming_the_text(service):
    task = service.create_task(ERIK, task_values()).item
    for text in ("   ", "x" * (MAX_COMMENT_CHARACTERS + 1)):
        with pytest.raises(ValidationFailed) as refused:
            service.comment("tasks", task.id, SARA, text)
        assert refused.value.field == "text"
    assert service.get_item("tasks", task.id, SARA).comments == []


def test_a_mention_reaches_a_readers_inbox_and_mailbox_and_nobody_else(service, clock, views, mailbox):  # noqa: F811
    box, port = mailbox
    request = service.submit_support_request(ALBA, request_values(party="AL", description="Radios for the border"))
    added = service.comment("support-requests", request.item.id, SARA,
                            "@hana please decide. cc @milan, @nobody, @sara and ana@pccsee.example")
    assert added.comment["mentions"] == ["hana"]  # milan reads no Albanian request; nobody is nobody; sara wrote it
    assert added.not_notified == ["milan", "nobody"]
    views.catch_up()

    inbox, total = views.read_models.reminders(HANA, mine=True)
    assert total == 1 and inbox[0]["item_id"] == str(request.item.id)
    assert (inbox[0]["deadline"], inbox[0]["rung"], inbox[0]["addressed_to"]) == ("mention", "mentioned", ["user:hana"])
    assert views.read_models.reminders(MILAN, mine=True) == ([], 0)

    worker(views.engine, service, clock, email(port)).run_once()
    assert [(to, m["Subject"]) for to, m in box.messages] == [(["hana@pccsee.example"],
                                                               f"sara mentioned you: {request.item.title}")]
    assert "Radios" not in box.messages[0][1].get_content()  # the e-mail says where, never what the request says

    item, _ = service.acknowledge_reminder("support-requests", request.item.id, inbox[0]["id"], HANA)
    assert item.reminders[inbox[0]["id"]]["acknowledged_by"] == "hana"


def test_a_mention_starts_no_deadline_ladder_and_survives_later_actions(service, clock):
    task = service.create_task(ERIK, task_values(assignee="sara", due=date(2026, 12, 15))).item
    service.comment("tasks", task.id, ERIK, "@sara the EWG needs this before the meeting")
    service.act("tasks", task.id, "start", SARA, {})
    item = service.get_item("tasks", task.id, SARA)
    (mention,) = item.reminders.values()
    assert mention["rung"] == "mentioned" and not mention.get("superseded")
    assert [d["last_reminder"] for d in item.deadlines()] == [None]  # the task's own ladder has not started


def test_an_item_holds_so_many_comments_and_refuses_more(memory_service):
    register_cast(memory_service)
    task = memory_service.create_task(ERIK, task_values()).item
    for n in range(MAX_COMMENTS_PER_ITEM):
        memory_service.comment("tasks", task.id, SARA, f"Note {n}")
    with pytest.raises(RuleBroken, match=f"has {MAX_COMMENTS_PER_ITEM} comments"):
        memory_service.comment("tasks", task.id, SARA, "One more")
    assert len(memory_service.get_item("tasks", task.id, SARA).comments) == MAX_COMMENTS_PER_ITEM


def test_a_comment_that_loses_the_race_for_the_version_is_added_to_the_item_as_it_is_now(service, monkeypatch):
    task = service.create_task(ERIK, task_values()).item
    load, raced = service.visible_item, []

    def loaded_then_changed_by_another_writer(*args, **kw):  # as a second process saving first, once
        item = load(*args, **kw)
        if not raced:
            raced.append(True)
            service.act("tasks", task.id, "start", SARA, {})
        return item

    monkeypatch.setattr(service, "visible_item", loaded_then_changed_by_another_writer)
    added = service.comment("tasks", task.id, SARA, "Written while sara started the task")
    item = load("tasks", task.id, SARA)
    assert (item.state, [c["text"] for c in item.comments]) == ("in_progress", ["Written while sara started the task"])
    assert added.outcome.item.version == item.version == 3
