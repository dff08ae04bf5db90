"""The auditor reads everything, including full history, and never writes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import CREATORS, PATHS, assert_item, assert_problem, history_of, item_in_state

COLLECTIONS = ("mandates", "tasks", "support-requests")


def _example(field: dict[str, Any]) -> Any:
    """A valid value for a field as GET /workflows describes it."""
    if field.get("choices"):
        return field["choices"][0]
    if field["name"] == "assignee":
        return "sara"
    return {"string": "A value", "date": "2027-05-03", "boolean": False, "number": 100, "integer": 1,
            "list of strings": ["SELEC"]}[field["type"]]


def _valid_body(workflow: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    fields = {f["name"]: f for f in workflow["fields"]}
    body = {name: _example(fields[name]) for name in action["required_fields"]}
    if action["reason_required"]:
        body["reason"] = "Because the auditor says so"
    return body


@pytest.fixture
def workflows(as_user) -> dict[str, dict[str, Any]]:
    response = as_user("audrey").get("/workflows")
    assert response.status_code == 200, response.text
    return {w["collection"]: w for w in response.json()["workflows"]}


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_the_auditor_reads_items_lists_past_versions_and_history_of_every_collection(as_user, collection):
    audrey = as_user("audrey")
    item = item_in_state(as_user, collection, list(PATHS[collection])[-1])
    url = f"/{collection}/{item['id']}"

    page = audrey.get(f"/{collection}", params={"limit": 500})
    assert page.status_code == 200 and item["id"] in [i["id"] for i in page.json()["items"]]
    current = assert_item(audrey.get(url), state=item["state"], version=item["version"], allowed=[])
    assert current == {**item, "allowed_actions": []}
    assert_item(audrey.get(url, params={"version": 1}), version=1, allowed=[])
    events = history_of(audrey, collection, item["id"])
    assert [e["version"] for e in events] == list(range(1, item["version"] + 1))


def test_the_auditor_reads_every_partys_support_requests(as_user):
    audrey = as_user("audrey")
    parties = {r["party"] for r in audrey.get("/support-requests", params={"limit": 500}).json()["items"]}
    assert {"AL", "RS"} <= parties


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_action_route_refuses_the_auditor_with_403_in_a_state_that_allows_the_action_and_changes_nothing(
        as_user, workflows, collection):
    audrey, staff = as_user("audrey"), as_user("hana")
    workflow = workflows[collection]
    items: dict[str, dict[str, Any]] = {}
    tried = []
    for action in workflow["actions"]:
        if not action["from"]:
            continue
        state = next(s for s in action["from"] if s in PATHS[collection])
        if state not in items:
            items[state] = item_in_state(as_user, collection, state)
        item = items[state]
        response = audrey.post(f"/{collection}/{item['id']}/{action['name']}", json=_valid_body(workflow, action))
        assert response.status_code == 403, (action["name"], state, response.status_code, response.text)
        assert_problem(response, 403)
        tried.append(action["name"])
    assert set(tried) == {a["name"] for a in workflow["actions"] if a["from"]}
    for item in items.values():
        assert_item(staff.get(f"/{collection}/{item['id']}"), state=item["state"], version=item["version"])
        assert len(history_of(staff, collection, item["id"])) == item["version"]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_the_auditor_may_not_create_any_item_and_nothing_is_created(as_user, collection):
    audrey = as_user("audrey")
    total = audrey.get(f"/{collection}").json()["total"]
    _, make_body = CREATORS[collection]
    assert_problem(audrey.post(f"/{collection}", json=make_body()), 403)
    assert audrey.get(f"/{collection}").json()["total"] == total


def test_the_auditor_may_not_manage_users(as_user):
    audrey = as_user("audrey")
    assert_problem(audrey.get("/users"), 403)
    assert_problem(audrey.post("/users", json={"username": "mallory", "password": "long-enough-1",
                                               "roles": ["head"]}), 403)
    assert_problem(audrey.post("/users/audrey/roles", json={"role": "head"}), 403)
    assert_problem(audrey.delete("/users/sara/roles/secretariat"), 403)
    assert audrey.get("/me").json()["roles"] == ["auditor"]
    assert as_user("sara").get("/me").json()["roles"] == ["secretariat"]


def test_an_auditor_acting_in_a_state_that_does_not_allow_the_action_is_still_refused_and_changes_nothing(
        as_user):
    audrey, sara = as_user("audrey"), as_user("sara")
    task = item_in_state(as_user, "tasks", "open")
    for action, body in [("approve", None), ("unblock", None), ("submit", {"result": "x"})]:
        response = audrey.post(f"/tasks/{task['id']}/{action}", json=body)
        assert response.status_code in (403, 409), response.text
        assert_problem(response, response.status_code)
    assert len(history_of(sara, "tasks", task["id"])) == 1
