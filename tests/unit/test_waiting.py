"""What waits on whom, read from the workflow tables (domain/waiting.py)."""

from __future__ import annotations

from domain.actor import Actor
from domain.registry import WORKFLOW_ITEMS
from domain.waiting import holder_roles, next_steps, queue_states, unassigned_for, waiting_on

SARA = Actor("sara", frozenset({"secretariat"}))
HANA = Actor("hana", frozenset({"head"}))
ERIK = Actor("erik", frozenset({"ewg"}))
ALBA = Actor("alba", frozenset({"party"}), "AL")
MILAN = Actor("milan", frozenset({"party"}), "RS")
AUDREY = Actor("audrey", frozenset({"auditor"}))
TASKS = WORKFLOW_ITEMS.workflows["tasks"]
REQUESTS = WORKFLOW_ITEMS.workflows["support-requests"]
MANDATES = WORKFLOW_ITEMS.workflows["mandates"]


def request(state: str, **fields) -> dict:
    return {"state": state, "party": "AL", "operational_involvement": False, **fields}


def test_an_assigned_task_waits_on_its_assignee_and_on_nobody_else():
    item = {"state": "open", "assignee": "sara"}
    assert waiting_on(TASKS, SARA, item) == ["start"]
    assert [waiting_on(TASKS, a, item) for a in (HANA, ERIK, AUDREY)] == [[], [], []]
    assert waiting_on(TASKS, Actor("sam", frozenset({"secretariat"})), item) == []


def test_an_unassigned_task_waits_on_the_secretariat_and_may_be_taken_by_whoever_may_assign_it():
    item = {"state": "open", "assignee": None}
    assert waiting_on(TASKS, SARA, item) == ["start"] and waiting_on(TASKS, ERIK, item) == []
    assert unassigned_for(TASKS, ERIK, item) == "assign" and unassigned_for(TASKS, SARA, item) == "assign"
    assert unassigned_for(TASKS, AUDREY, item) is None
    assert unassigned_for(TASKS, ERIK, {"state": "open", "assignee": "sara"}) is None


def test_a_review_waits_on_the_ewg_and_a_step_that_needs_a_reason_is_nobodys_next_step():
    item = {"state": "in_review", "assignee": "sara"}
    assert waiting_on(TASKS, ERIK, item) == ["approve"]  # not "return": that needs a reason, it is an exception
    assert waiting_on(TASKS, SARA, item) == [] and waiting_on(TASKS, HANA, item) == []


def test_a_request_under_screening_waits_on_the_secretariats_check_then_on_the_heads_decision():
    unchecked = request("screening")
    assert waiting_on(REQUESTS, SARA, unchecked) == ["record_duplication_check"]
    assert waiting_on(REQUESTS, HANA, unchecked) == []
    checked = request("screening", duplicates_found=False)
    assert waiting_on(REQUESTS, SARA, checked) == [] and waiting_on(REQUESTS, HANA, checked) == ["approve"]


def test_a_request_that_may_not_be_approved_waits_on_the_head_to_reject_it():
    assert waiting_on(REQUESTS, HANA, request("screening", duplicates_found=True)) == ["reject"]
    involved = request("screening", duplicates_found=False, operational_involvement=True)
    assert waiting_on(REQUESTS, HANA, involved) == ["reject"]


def test_a_question_waits_on_the_requesting_party_only():
    item = request("needs_info")
    assert waiting_on(REQUESTS, ALBA, item) == ["provide_info"]
    assert [waiting_on(REQUESTS, a, item) for a in (MILAN, SARA, HANA)] == [[], [], []]


def test_fulfil_waits_on_the_head_only_once_no_linked_task_is_open():
    assert waiting_on(MANDATES, HANA, {"state": "reported", "tasks": {"t1": "done"}}) == ["fulfil"]
    assert waiting_on(MANDATES, HANA, {"state": "reported", "tasks": {"t1": "open"}}) == []


def test_the_page_puts_the_next_step_first_and_the_fix_of_a_blocked_step_before_the_rest():
    assert next_steps(REQUESTS, HANA, request("screening"))[0] == "record_duplication_check"
    assert next_steps(REQUESTS, HANA, request("screening", duplicates_found=False))[0] == "approve"
    assert next_steps(TASKS, SARA, {"state": "in_progress", "assignee": "sara"})[0] == "submit"


def test_the_states_to_look_in_narrow_tasks_to_the_users_own_or_nobodys():
    assert queue_states(TASKS, SARA) == {"open": "assignee", "in_progress": "assignee", "blocked": "assignee"}
    assert queue_states(TASKS, ERIK)["in_review"] is None
    assert queue_states(REQUESTS, HANA) == {"screening": None, "needs_info": "own_party"}


def test_work_is_given_only_to_roles_its_actions_grant():
    assert holder_roles(TASKS) == {"secretariat", "head", "ewg"}
    assert "auditor" not in holder_roles(REQUESTS) and "party" not in holder_roles(REQUESTS)


def test_every_relation_says_when_an_item_names_somebody_for_it():
    from domain.workflow import RELATION_CLAIMED, RELATIONS

    assert RELATION_CLAIMED.keys() == RELATIONS.keys()
