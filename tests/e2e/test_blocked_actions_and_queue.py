"""Over HTTP: what a rule still stands in the way of is said in words (`blocked_actions`), and `GET /queue` lists
what waits on the caller. The session's server is shared, so these count their own items, never totals."""

from __future__ import annotations

from tests.e2e.conftest import act, assert_item, assert_problem, item_in_state


def queue_ids(client) -> dict[str, list[str]]:
    response = client.get("/queue")
    assert response.status_code == 200, response.text
    return {entry["id"]: entry["steps"] for entry in response.json()["items"]}


def test_approve_is_blocked_before_the_duplication_check_with_the_fix_in_words(as_user):
    request = item_in_state(as_user, "support-requests", "screening")
    url = f"/support-requests/{request['id']}"

    before = assert_item(as_user("hana").get(url))
    assert "approve" not in before["allowed_actions"]
    assert before["blocked_actions"] == [{"action": "approve", "reason": "the duplication check is not recorded yet",
                                          "fix": "record the duplication check first"}]
    refused = assert_problem(as_user("hana").post(f"{url}/approve"), 409, "record the duplication check first")
    assert "duplicates_found" not in refused["detail"] and "record_duplication_check" not in refused["detail"]

    act(as_user("sara"), "support-requests", request["id"], "record_duplication_check", {"duplicates_found": False})
    after = assert_item(as_user("hana").get(url))
    assert "approve" in after["allowed_actions"] and after["blocked_actions"] == []


def test_blocked_actions_name_only_what_the_callers_role_may_take_and_a_past_version_none(as_user):
    request = item_in_state(as_user, "support-requests", "screening")
    url = f"/support-requests/{request['id']}"
    assert assert_item(as_user("sara").get(url))["blocked_actions"] == []  # approving is the head's
    assert assert_item(as_user("hana").get(f"{url}?version=1"))["blocked_actions"] == []


def test_a_duplicate_found_blocks_approve_and_says_to_reject(as_user):
    request = item_in_state(as_user, "support-requests", "screening")
    act(as_user("sara"), "support-requests", request["id"], "record_duplication_check", {"duplicates_found": True})
    [blocked] = assert_item(as_user("hana").get(f"/support-requests/{request['id']}"))["blocked_actions"]
    assert blocked["action"] == "approve" and blocked["fix"].startswith("reject the request")


def test_the_queue_moves_a_request_from_the_secretariat_to_the_head_once_the_check_is_recorded(as_user):
    request = item_in_state(as_user, "support-requests", "screening")
    assert queue_ids(as_user("sara"))[request["id"]] == ["record_duplication_check"]
    assert request["id"] not in queue_ids(as_user("hana"))

    act(as_user("sara"), "support-requests", request["id"], "record_duplication_check", {"duplicates_found": False},
        headers={"Prefer": "wait-for-projection"})

    assert request["id"] not in queue_ids(as_user("sara"))
    assert queue_ids(as_user("hana"))[request["id"]] == ["approve"]


def test_a_partys_question_waits_on_that_party_only(as_user):
    request = item_in_state(as_user, "support-requests", "needs_info")
    assert queue_ids(as_user("alba"))[request["id"]] == ["provide_info"]
    assert request["id"] not in queue_ids(as_user("milan"))
    assert request["id"] not in queue_ids(as_user("audrey"))


def test_an_unassigned_task_waits_to_be_taken_and_the_queue_says_by_which_action(as_user):
    task = item_in_state(as_user, "tasks", "open", assignee=None)
    entries = {e["id"]: e for e in as_user("erik").get("/queue").json()["items"]}
    assert entries[task["id"]]["take"] == "assign" and entries[task["id"]]["steps"] == []
    assert {e["id"]: e for e in as_user("sara").get("/queue").json()["items"]}[task["id"]]["steps"] == ["start"]


def test_the_queue_is_documented_in_the_openapi_document(as_user):
    paths = as_user("sara").get("/openapi.json").json()["paths"]
    assert "/queue" in paths and "200" in paths["/queue"]["get"]["responses"]
