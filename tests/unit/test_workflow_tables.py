"""The workflow tables are the single source of truth: events, diagrams and documents agree with them."""

from __future__ import annotations

import pytest

from domain.actor import ROLES
from domain.application import AGGREGATES
from domain.item import WorkflowItem
from domain.mandate import Mandate
from domain.meeting import Meeting

ITEM_CLASSES = list(AGGREGATES.values())
# Events that are not actions of the table: a mandate's bookkeeping of its tasks, and every item's reminders.
REMINDER_EVENTS = {"ReminderRaised", "ReminderAcknowledged"}
ITEM_EVENTS = REMINDER_EVENTS | {"AttachmentAdded", "CommentAdded"}  # every item's, whatever its workflow
# ... and the bookkeeping of links: a mandate's of its tasks, a meeting's of what was made of its conclusions.
BOOKKEEPING_EVENTS = {cls: ITEM_EVENTS | {Mandate: {"TaskLinked", "TaskSettled"},
                                          Meeting: {"ConclusionActedOn"}}.get(cls, set())
                      for cls in ITEM_CLASSES}


def nested_event_names(cls: type[WorkflowItem]) -> set[str]:
    # The library gives every aggregate class its own `Event` and `Created`; those count
    # only where the table uses them.
    used = {a.event for a in cls.workflow.actions}
    return {name for name, value in vars(cls).items()
            if isinstance(value, type) and issubclass(value, WorkflowItem.Event)
            and (name not in ("Event", "Created") or name in used)}


@pytest.mark.parametrize("cls", ITEM_CLASSES, ids=lambda c: c.__name__)
def test_every_action_has_its_own_past_tense_event_and_every_event_an_action(cls):
    action_events = {a.event for a in cls.workflow.actions}
    assert len(action_events) == len(cls.workflow.actions), "two actions share an event"
    assert nested_event_names(cls) == action_events | BOOKKEEPING_EVENTS.get(cls, set())
    for action in cls.workflow.actions:
        event_class = getattr(cls, action.event)
        assert event_class.__qualname__ == f"{cls.__name__}.{action.event}"
        assert issubclass(event_class, WorkflowItem.Created) == action.creates


@pytest.mark.parametrize("cls", ITEM_CLASSES, ids=lambda c: c.__name__)
def test_every_state_is_reachable_and_terminal_states_are_final(cls):
    workflow = cls.workflow
    reached = {workflow.creating_action.target}
    frontier = list(reached)
    while frontier:
        state = frontier.pop()
        for action in workflow.available_in(state):
            target = action.target or state
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(workflow.states)
    for state in workflow.terminal:
        assert workflow.available_in(state) == []


@pytest.mark.parametrize("cls", ITEM_CLASSES, ids=lambda c: c.__name__)
def test_the_mermaid_diagram_draws_every_transition_of_the_table(cls):
    diagram = cls.workflow.as_mermaid()
    assert diagram.startswith("stateDiagram-v2\n")
    for action in cls.workflow.commands:
        for source in action.sources:
            assert f"{source} --> {action.target or source}: {action.name}" in diagram
    for state in cls.workflow.terminal:
        assert f"{state} --> [*]" in diagram


@pytest.mark.parametrize("cls", ITEM_CLASSES, ids=lambda c: c.__name__)
def test_the_workflow_document_lists_states_actions_roles_and_fields(cls):
    document = cls.workflow.as_document()
    assert document["states"] == list(cls.workflow.states)
    assert [a["name"] for a in document["actions"]] == [a.name for a in cls.workflow.actions]
    for entry, action in zip(document["actions"], cls.workflow.actions):
        assert entry["from"] == list(action.sources)
        assert entry["roles"] == list(action.who)
        assert entry["required_fields"] == list(action.requires)
        assert set(entry["roles"]) <= set(ROLES) | {"assignee", "own_party", "ewg_body"}
