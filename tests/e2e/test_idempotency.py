"""Idempotency-Key: a retried request gets the first answer and records nothing twice."""

from __future__ import annotations

from tests.e2e.conftest import assert_item, assert_problem, create, history_of, task_body, unique


def test_the_same_action_sent_twice_with_one_key_answers_the_same_and_records_one_event(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    key = {"Idempotency-Key": unique("start-")}
    first = sara.post(f"/tasks/{task['id']}/start", headers=key)
    again = sara.post(f"/tasks/{task['id']}/start", headers=key)
    assert_item(first, state="in_progress", version=2)
    assert (again.status_code, again.json(), again.headers["etag"]) == (
        first.status_code, first.json(), first.headers["etag"])
    assert [e["type"] for e in history_of(sara, "tasks", task["id"])] == ["Task.Created", "Task.Started"]


def test_an_action_with_a_body_retried_with_its_key_is_recorded_once(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    sara.post(f"/tasks/{task['id']}/start")
    key = {"Idempotency-Key": unique("block-")}
    body = {"reason": "Waiting for nominations"}
    first = sara.post(f"/tasks/{task['id']}/block", json=body, headers=key)
    again = sara.post(f"/tasks/{task['id']}/block", json=body, headers=key)
    assert_item(first, state="blocked", version=3)
    assert again.status_code == 200 and again.json() == first.json()
    assert len(history_of(sara, "tasks", task["id"])) == 3


def test_a_creation_retried_with_its_key_answers_the_same_item_and_creates_one(as_user):
    sara = as_user("sara")
    total = sara.get("/tasks").json()["total"]
    key = {"Idempotency-Key": unique("create-")}
    body = task_body(title=unique("Idempotent task "))
    first = sara.post("/tasks", json=body, headers=key)
    again = sara.post("/tasks", json=body, headers=key)
    created = assert_item(first, 201, version=1)
    assert again.status_code == 201 and again.json() == created
    assert again.headers["location"] == first.headers["location"] == f"/tasks/{created['id']}"
    assert sara.get("/tasks").json()["total"] == total + 1
    assert [t["title"] for t in sara.get("/tasks", params={"limit": 500}).json()["items"]].count(body["title"]) == 1


def test_the_same_key_with_a_different_body_is_422_and_records_nothing(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    sara.post(f"/tasks/{task['id']}/start")
    key = {"Idempotency-Key": unique("submit-")}
    assert_item(sara.post(f"/tasks/{task['id']}/submit", json={"result": "v1"}, headers=key), state="in_review")
    other = assert_problem(sara.post(f"/tasks/{task['id']}/submit", json={"result": "v2"}, headers=key), 422,
                           key["Idempotency-Key"], "different request")
    assert [e["field"] for e in other["errors"]] == ["Idempotency-Key"]
    # The key on another route is another request too.
    assert_problem(sara.post("/tasks", json=task_body(), headers=key), 422, key["Idempotency-Key"])
    events = history_of(sara, "tasks", task["id"])
    assert len(events) == 3 and events[-1]["data"] == {"result": "v1"}


def test_keys_belong_to_their_user_so_two_users_may_pick_the_same_one(as_user):
    sara, hana = as_user("sara"), as_user("hana")
    key = {"Idempotency-Key": unique("shared-")}
    mine = sara.post("/tasks", json=task_body(title="Sara's task"), headers=key)
    hers = hana.post("/tasks", json=task_body(title="Hana's task"), headers=key)
    assert_item(mine, 201)
    assert_item(hers, 201)
    assert mine.json()["id"] != hers.json()["id"]
    assert hers.json()["title"] == "Hana's task"


def test_a_retry_after_the_item_moved_on_still_answers_the_first_answer_and_changes_nothing(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    key = {"Idempotency-Key": unique("start-")}
    first = sara.post(f"/tasks/{task['id']}/start", headers=key)
    sara.post(f"/tasks/{task['id']}/block", json={"reason": "Waiting"})
    again = sara.post(f"/tasks/{task['id']}/start", headers=key)
    assert again.status_code == 200 and again.json()["version"] == first.json()["version"] == 2
    assert_item(sara.get(f"/tasks/{task['id']}"), state="blocked", version=3)


def test_a_refused_request_records_no_key_so_a_corrected_retry_is_refused_for_the_same_reason(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    key = {"Idempotency-Key": unique("early-")}
    assert_problem(sara.post(f"/tasks/{task['id']}/submit", json={"result": "too early"}, headers=key), 409)
    assert_problem(sara.post(f"/tasks/{task['id']}/submit", json={"result": "too early"}, headers=key), 409)
    assert len(history_of(sara, "tasks", task["id"])) == 1
