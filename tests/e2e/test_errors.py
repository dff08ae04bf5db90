"""Every error a client can cause, over real HTTP: the right status, a problem document, and nothing recorded."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import jwt
import pytest

from tests.e2e.conftest import (act, assert_item, assert_problem, create, history_of, mandate_body, request_body,
                                task_body, unique)

# -- 401 ----------------------------------------------------------------------------------------


def test_a_route_without_a_token_answers_401_with_a_bearer_challenge(anonymous):
    for method, path in [("GET", "/tasks"), ("GET", "/mandates"), ("GET", "/support-requests"),
                         ("GET", "/workflows"), ("GET", f"/tasks/{uuid.uuid4()}"), ("GET", "/me")]:
        response = anonymous.request(method, path)
        assert_problem(response, 401, "Bearer")
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_write_without_a_token_is_401_even_with_an_invalid_body(anonymous):
    assert_problem(anonymous.post("/tasks", json={}), 401)
    assert_problem(anonymous.post("/mandates", json=mandate_body()), 401)
    assert_problem(anonymous.post(f"/tasks/{uuid.uuid4()}/start"), 401)


def _token(key: str, **claims) -> str:
    now = datetime.now(timezone.utc)
    return jwt.encode({"sub": "sara", "iss": "secretariat", "iat": now, "exp": now + timedelta(hours=1), **claims},
                      key, algorithm="HS256")


def test_a_malformed_forged_expired_or_orphaned_token_answers_401(server, anonymous):
    now = datetime.now(timezone.utc)
    tokens = {
        "garbage": "not-a-jwt",
        "other key": _token("k" * 48),
        "expired": _token(server.secret_key, iat=now - timedelta(hours=9), exp=now - timedelta(hours=1)),
        "unknown user": _token(server.secret_key, sub="nobody-here"),
        "other issuer": _token(server.secret_key, iss="someone-else"),
        "alg none": jwt.encode({"sub": "sara", "iss": "secretariat", "exp": now + timedelta(hours=1)}, None,
                               algorithm="none"),
    }
    for name, token in tokens.items():
        response = anonymous.get("/tasks", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (name, response.status_code, response.text)
        assert_problem(response, 401)
    # The same construction with the server's key works, so the refusals above are about the token.
    assert anonymous.get("/tasks", headers={"Authorization": f"Bearer {_token(server.secret_key)}"}).status_code == 200
    # Basic credentials are not a bearer token.
    assert_problem(anonymous.get("/tasks", auth=("sara", "sara")), 401)


def test_wrong_credentials_at_sign_in_answer_401_and_right_ones_a_bearer_token(anonymous):
    for username, password in [("sara", "wrong"), ("nobody", "nobody"), ("sara", "")]:
        response = anonymous.post("/auth/token", data={"username": username, "password": password})
        assert response.status_code in (401, 422), response.text
        assert_problem(response, response.status_code)
    assert_problem(anonymous.post("/auth/token", data={"username": "sara", "password": "SARA"}), 401)
    ok = anonymous.post("/auth/token", data={"username": "sara", "password": "sara"})
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
    me = anonymous.get("/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "sara" and me.json()["roles"] == ["secretariat"]


# -- 403 ----------------------------------------------------------------------------------------


def test_the_ewg_may_not_approve_nor_read_a_support_request(as_user):
    request = create(as_user("alba"), "support-requests", request_body())
    erik = as_user("erik")
    assert_problem(erik.post(f"/support-requests/{request['id']}/approve"), 404)  # none exists for the EWG
    assert_problem(erik.get(f"/support-requests/{request['id']}"), 404)
    assert_problem(erik.get("/support-requests"), 403)
    assert len(history_of(as_user("sara"), "support-requests", request["id"])) == 1


def test_the_secretariat_may_not_fulfil_a_mandate_nor_approve_a_support_request(as_user):
    sara = as_user("sara")
    mandate = create(sara, "mandates", mandate_body())
    act(sara, "mandates", mandate["id"], "start")
    act(sara, "mandates", mandate["id"], "report", {"summary": "Done"})
    assert_problem(sara.post(f"/mandates/{mandate['id']}/fulfil"), 403, "head")
    assert_item(sara.get(f"/mandates/{mandate['id']}"), state="reported", version=3)

    request = create(as_user("alba"), "support-requests", request_body())
    act(sara, "support-requests", request["id"], "start_screening")
    act(sara, "support-requests", request["id"], "record_duplication_check", {"duplicates_found": False})
    assert_problem(sara.post(f"/support-requests/{request['id']}/approve"), 403, "head")
    assert_item(sara.get(f"/support-requests/{request['id']}"), state="screening", version=3)


def test_the_admin_manages_users_but_may_not_read_or_create_workflow_items(as_user):
    admin = as_user("admin")
    task_id = as_user("sara").get("/tasks").json()["items"][0]["id"]
    for path in ("/tasks", "/mandates", "/support-requests"):
        assert_problem(admin.get(path), 403)
    for path in (f"/tasks/{task_id}", f"/tasks/{task_id}/history"):  # by id: as if there were none
        assert_problem(admin.get(path), 404, "no task with id")
    assert_problem(admin.post("/tasks", json=task_body()), 403)
    assert admin.get("/users").status_code == 200


def test_an_e_mail_address_holding_a_control_character_is_refused_on_the_api_and_the_admin_page(server, as_user):
    # A NUL or other control character in an address was accepted and kept for the e-mailed reminders.
    admin = as_user("admin")
    body = {"username": unique("ctl").lower()[:30], "password": "a long enough password", "roles": ["ewg"]}
    assert_problem(admin.post("/users", json={**body, "email": "ewg\x00@pccsee.example"}), 422, "email")
    assert_problem(admin.put("/users/erik/email", json={"email": "erik\x07@pccsee.example"}), 422, "email")
    page = server.anonymous()
    page.post("/login", data={"username": "admin", "password": "admin"})
    origin = {"Origin": server.base_url}
    added = page.post("/ui/admin/users", headers=origin, data={"username": body["username"], "password":
                      body["password"], "role-ewg": "on", "email": "ewg\x00@pccsee.example"})
    assert added.status_code == 422
    assert body["username"] not in [user["username"] for user in admin.get("/users").json()]


def test_a_party_liaison_may_not_read_tasks_nor_record_mandates(as_user):
    alba = as_user("alba")
    assert_problem(alba.get("/tasks"), 403)
    assert_problem(alba.get("/mandates"), 403)
    assert_problem(alba.post("/mandates", json=mandate_body()), 403)
    assert_problem(alba.post("/tasks", json=task_body()), 403)
    assert_problem(as_user("sara").get("/users"), 403)


# -- 404 ----------------------------------------------------------------------------------------


def test_an_unknown_or_malformed_id_answers_404_on_every_item_route(as_user):
    sara = as_user("sara")
    for collection, action in [("tasks", "start"), ("mandates", "start"), ("support-requests", "start_screening")]:
        for item_id in (str(uuid.uuid4()), "not-a-uuid", "1", "%20"):
            assert_problem(sara.get(f"/{collection}/{item_id}"), 404)
            assert_problem(sara.get(f"/{collection}/{item_id}/history"), 404)
            assert_problem(sara.post(f"/{collection}/{item_id}/{action}"), 404)


def test_an_item_of_another_collection_is_not_found_under_this_one(as_user):
    sara = as_user("sara")
    mandate = create(sara, "mandates", mandate_body())
    assert_problem(sara.get(f"/tasks/{mandate['id']}"), 404)
    assert_problem(sara.post(f"/tasks/{mandate['id']}/start"), 404)
    assert_item(sara.get(f"/mandates/{mandate['id']}"), version=1)


def test_an_unknown_action_answers_404_listing_the_actions_there_are(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    body = assert_problem(sara.post(f"/tasks/{task['id']}/frobnicate", json={}), 404, "frobnicate", "approve",
                          "reschedule")
    assert "start" in body["detail"]
    assert_problem(sara.post(f"/tasks/{uuid.uuid4()}/frobnicate"), 404)
    assert_problem(sara.get("/workflows/nothing.mmd"), 404, "tasks")
    assert len(history_of(sara, "tasks", task["id"])) == 1


def test_a_version_the_item_never_had_is_404(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    assert_problem(sara.get(f"/tasks/{task['id']}", params={"version": 2}), 404, "version")
    assert_item(sara.get(f"/tasks/{task['id']}", params={"version": 1}), version=1)


# -- 409 ----------------------------------------------------------------------------------------


def test_an_action_not_allowed_in_the_state_is_409_naming_the_state_and_the_allowed_actions(as_user):
    sara, erik = as_user("sara"), as_user("erik")
    task = create(erik, "tasks", task_body())
    body = assert_problem(erik.post(f"/tasks/{task['id']}/approve"), 409, "'open'")
    for allowed in ("assign", "start", "cancel", "reschedule"):
        assert allowed in body["detail"], body
    assert "approve" in body["detail"] and "submit" not in body["detail"]

    act(sara, "tasks", task["id"], "start")
    act(sara, "tasks", task["id"], "submit", {"result": "v1"})
    act(erik, "tasks", task["id"], "approve")
    body = assert_problem(sara.post(f"/tasks/{task['id']}/start"), 409, "'done'", "none")
    assert len(history_of(sara, "tasks", task["id"])) == 4


def test_approve_without_a_duplication_check_or_with_a_duplicate_found_is_refused_with_409(as_user):
    sara, hana = as_user("sara"), as_user("hana")
    request = create(as_user("alba"), "support-requests", request_body())
    url = f"/support-requests/{request['id']}"
    act(sara, "support-requests", request["id"], "start_screening")
    assert_problem(hana.post(f"{url}/approve"), 409, "record the duplication check first")  # in plain words
    act(sara, "support-requests", request["id"], "record_duplication_check",
        {"duplicates_found": True, "notes": "SELEC funds the same exchange"})
    assert_problem(hana.post(f"{url}/approve"), 409, "duplicate")
    assert_item(hana.get(url), state="screening", version=3)
    assert len(history_of(hana, "support-requests", request["id"])) == 3
    # A clean second check lets the head approve.
    act(sara, "support-requests", request["id"], "record_duplication_check", {"duplicates_found": False})
    assert_item(hana.post(f"{url}/approve"), state="approved", version=5)


def test_approve_is_refused_with_409_when_the_request_asks_for_operational_involvement(as_user):
    sara, hana = as_user("sara"), as_user("hana")
    request = create(as_user("alba"), "support-requests", request_body(operational_involvement=True,
                                                                       activity="investigation"))
    assert request["operational_involvement"] is True
    act(sara, "support-requests", request["id"], "start_screening")
    act(sara, "support-requests", request["id"], "record_duplication_check", {"duplicates_found": False})
    assert_problem(hana.post(f"/support-requests/{request['id']}/approve"), 409, "operational involvement")
    assert_item(hana.get(f"/support-requests/{request['id']}"), state="screening", version=3)
    assert_item(hana.post(f"/support-requests/{request['id']}/reject",
                          json={"reason": "No operational involvement at any time"}), state="rejected")


def test_fulfil_is_refused_with_409_while_a_linked_task_is_open_and_allowed_once_it_is_cancelled(as_user):
    sara, hana, erik = as_user("sara"), as_user("hana"), as_user("erik")
    mandate = create(sara, "mandates", mandate_body())
    task = create(erik, "tasks", task_body(mandate_id=mandate["id"]))
    act(sara, "mandates", mandate["id"], "start")
    act(sara, "mandates", mandate["id"], "report", {"summary": "Reported to the CoM"})
    assert_problem(hana.post(f"/mandates/{mandate['id']}/fulfil"), 409, "open", task["id"])
    assert len(history_of(hana, "mandates", mandate["id"])) == 4
    act(erik, "tasks", task["id"], "cancel", {"reason": "No longer needed"})
    assert_item(hana.post(f"/mandates/{mandate['id']}/fulfil"), state="fulfilled")


def test_a_task_cannot_be_linked_to_a_fulfilled_or_withdrawn_mandate(as_user):
    sara, hana = as_user("sara"), as_user("hana")
    mandate = create(sara, "mandates", mandate_body())
    act(hana, "mandates", mandate["id"], "withdraw", {"reason": "Superseded"})
    response = sara.post("/tasks", json=task_body(mandate_id=mandate["id"]))
    assert response.status_code in (409, 422), response.text
    assert_problem(response, response.status_code, "withdrawn")
    assert len(history_of(sara, "mandates", mandate["id"])) == 2


def test_a_second_mandate_with_the_same_reference_is_a_409_and_leaves_the_first_as_it_was(as_user):
    sara, hana = as_user("sara"), as_user("hana")
    body = mandate_body()
    first = create(sara, "mandates", body)
    total = sara.get("/mandates").json()["total"]
    again = hana.post("/mandates", json=mandate_body(reference=body["reference"], title="Another title"))
    assert_problem(again, 409, body["reference"])
    assert_item(sara.get(f"/mandates/{first['id']}"), version=1)
    assert sara.get(f"/mandates/{first['id']}").json()["title"] == body["title"]
    assert len(history_of(sara, "mandates", first["id"])) == 1
    assert sara.get("/mandates").json()["total"] == total


def test_concurrent_actions_on_one_item_let_exactly_one_win_and_the_others_get_409(server, as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    token = server.token("sara")
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    lock = threading.Lock()

    def start() -> None:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            barrier.wait()
            response = c.post(f"/tasks/{task['id']}/start")
        if response.status_code != 200:
            assert_problem(response, response.status_code)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 7, statuses
    events = history_of(sara, "tasks", task["id"])
    assert [e["type"] for e in events] == ["Task.Created", "Task.Started"]


# -- 412 ----------------------------------------------------------------------------------------


def test_if_match_with_a_stale_version_is_412_and_with_the_current_one_goes_through(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    url = f"/tasks/{task['id']}"
    started = sara.post(f"{url}/start", headers={"If-Match": '"1"'})
    assert_item(started, state="in_progress", version=2)
    assert started.headers["etag"] == '"2"'

    stale = sara.post(f"{url}/block", json={"reason": "Waiting"}, headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "2")
    assert len(history_of(sara, "tasks", task["id"])) == 2

    assert_item(sara.post(f"{url}/block", json={"reason": "Waiting"}, headers={"If-Match": 'W/"2"'}),
                state="blocked", version=3)
    assert_item(sara.post(f"{url}/unblock", headers={"If-Match": "*"}), state="in_progress", version=4)
    assert_problem(sara.post(f"{url}/submit", json={"result": "x"}, headers={"If-Match": "yesterday"}), 422,
                   "If-Match")
    assert len(history_of(sara, "tasks", task["id"])) == 4


# -- 422 ----------------------------------------------------------------------------------------


def _errors_name(body: dict, field: str) -> bool:
    return field in body["detail"] or any(e.get("field") == field for e in body.get("errors") or [])


@pytest.mark.parametrize("collection, body, field", [
    ("tasks", {}, "title"),
    ("tasks", task_body(title=None), "title"),
    ("mandates", {k: v for k, v in mandate_body().items() if k != "decided_on"}, "decided_on"),
    ("mandates", mandate_body(assigned_to="the-minister"), "assigned_to"),
    ("support-requests", request_body(party="Albania"), "party"),
    ("support-requests", request_body(activity="surveillance"), "activity"),
], ids=["task-no-title", "task-null-title", "mandate-no-decided_on", "mandate-bad-assigned_to", "request-bad-party",
        "request-bad-activity"])
def test_a_missing_or_invalid_required_field_is_422_naming_it(as_user, collection, body, field):
    client = as_user("sara")
    total = client.get(f"/{collection}").json()["total"]
    problem = assert_problem(client.post(f"/{collection}", json=body), 422, field)
    assert _errors_name(problem, field)
    assert client.get(f"/{collection}").json()["total"] == total


def test_a_support_request_that_does_not_say_whether_it_asks_for_operational_involvement_is_422(as_user):
    """DOMAIN.md and GET /workflows make operational_involvement a required field; silence is not a "no"."""
    alba = as_user("alba")
    submit = {f["name"]: f for f in next(w for w in alba.get("/workflows").json()["workflows"]
                                         if w["collection"] == "support-requests")["fields"]}
    assert submit["operational_involvement"]["required"] is True
    total = alba.get("/support-requests").json()["total"]
    body = {k: v for k, v in request_body().items() if k != "operational_involvement"}
    assert_problem(alba.post("/support-requests", json=body), 422, "operational_involvement")
    assert alba.get("/support-requests").json()["total"] == total


def test_a_blank_mandate_reference_is_422_rather_than_escaping_the_uniqueness_of_references(as_user):
    sara = as_user("sara")
    total = sara.get("/mandates").json()["total"]
    for reference in ("   ", "\t"):
        assert_problem(sara.post("/mandates", json=mandate_body(reference=reference)), 422, "reference")
    assert sara.get("/mandates").json()["total"] == total


@pytest.mark.parametrize("body, field", [
    (task_body(due=20270301), "due"),
    (task_body(due="2027-02-30"), "due"),
    (task_body(due="01/03/2027"), "due"),
    (task_body(due="2027-03-01T10:00:00+01:00"), "due"),
    (task_body(title=42), "title"),
    (task_body(partners="SELEC"), "partners"),
    (task_body(partners=["SELEC", 7]), "partners"),
    (task_body(colour="red"), "colour"),
    (task_body(title="x" * 100_000), "title"),
    (task_body(description="x" * 500_000), "description"),
    (task_body(assignee="nobody-at-all"), "assignee"),
    (task_body(mandate_id=str(uuid.uuid4())), "mandate_id"),
    (task_body(mandate_id="CoM-2015-05-05/1"), "mandate_id"),
    (task_body(reason="y" * 6000), "reason"),
], ids=["due-int", "due-feb-30", "due-dmy", "due-datetime", "title-int", "partners-str", "partners-int",
        "unknown-field", "long-title", "long-description", "unknown-assignee", "missing-mandate",
        "malformed-mandate-id", "long-reason"])
def test_a_task_with_a_wrong_type_bad_date_unknown_field_or_absurd_value_is_422_naming_the_field(
        as_user, body, field):
    sara = as_user("sara")
    total = sara.get("/tasks").json()["total"]
    problem = assert_problem(sara.post("/tasks", json=body), 422, field)
    assert _errors_name(problem, field)
    assert sara.get("/tasks").json()["total"] == total


@pytest.mark.parametrize("overrides", [
    {"kind": "financial"}, {"kind": "financial", "amount_eur": 0}, {"kind": "financial", "amount_eur": -5},
    {"kind": "financial", "amount_eur": "NaN"}, {"kind": "financial", "amount_eur": 10**20},
], ids=["no-amount", "zero", "negative", "nan", "huge"])
def test_a_financial_request_without_a_positive_amount_is_422_naming_amount_eur(as_user, overrides):
    alba = as_user("alba")
    total = alba.get("/support-requests").json()["total"]
    assert_problem(alba.post("/support-requests", json=request_body(**overrides)), 422, "amount_eur")
    assert alba.get("/support-requests").json()["total"] == total


def test_an_action_without_its_required_field_or_reason_is_422_naming_it_and_records_nothing(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    url = f"/tasks/{task['id']}"
    act(sara, "tasks", task["id"], "start")
    refusals = [
        ("block", None, "reason"), ("block", {}, "reason"), ("block", {"reason": ""}, "reason"),
        ("block", {"reason": "   "}, "reason"), ("submit", {}, "result"), ("submit", None, "result"),
        ("submit", {"result": 5}, "result"), ("submit", {"result": "ok", "due": "2027-01-01"}, "due"),
        ("reschedule", {"reason": "Later", "due": "soon"}, "due"), ("reschedule", {"due": "2027-05-01"}, "reason"),
        ("assign", {"assignee": "nobody-at-all"}, "assignee"),
    ]
    for action, body, field in refusals:
        assert_problem(sara.post(f"{url}/{action}", json=body), 422, field)
    assert_item(sara.get(url), state="in_progress", version=2)
    assert len(history_of(sara, "tasks", task["id"])) == 2


def test_a_body_that_is_not_json_or_not_an_object_is_422_and_another_media_type_415(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    for content in (b"{not json", b"[]", b'"text"', b"null"):
        response = sara.post(f"/tasks/{task['id']}/reschedule", content=content,
                             headers={"Content-Type": "application/json"})
        assert_problem(response, 422)
    assert_problem(sara.post("/tasks", content=b"title=x", headers={"Content-Type":
                                                                   "application/x-www-form-urlencoded"}), 415,
                   "application/json")
    assert len(history_of(sara, "tasks", task["id"])) == 1


@pytest.mark.parametrize("collection, params, field", [
    ("tasks", {"state": "finished"}, "state"),
    ("mandates", {"state": "open"}, "state"),
    ("support-requests", {"state": "pending"}, "state"),
    ("tasks", {"limit": -1}, "limit"),
    ("tasks", {"limit": 0}, "limit"),
    ("tasks", {"limit": 501}, "limit"),
    ("tasks", {"limit": "ten"}, "limit"),
    ("tasks", {"offset": -3}, "offset"),
    ("support-requests", {"party": "XX"}, "party"),
    ("tasks", {"assignee": "a" * 1000}, "assignee"),
], ids=["task-state", "mandate-state", "request-state", "limit-negative", "limit-zero", "limit-too-big",
        "limit-text", "offset-negative", "party-unknown", "assignee-absurd"])
def test_an_invalid_list_filter_is_422_naming_the_filter_and_what_is_valid(as_user, collection, params, field):
    problem = assert_problem(as_user("sara").get(f"/{collection}", params=params), 422, field)
    if field == "state":
        valid = {"tasks": "in_progress", "mandates": "adopted", "support-requests": "needs_info"}[collection]
        assert valid in problem["detail"], problem


def test_an_invalid_point_in_time_is_422(as_user):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    url = f"/tasks/{task['id']}"
    for params, field in [({"version": 0}, "version"), ({"version": "one"}, "version"),
                          ({"version": 2**40}, "version"), ({"as_of": "yesterday"}, "as_of"),
                          ({"as_of": "2026-11-23T12:00:00"}, "as_of"),
                          ({"version": 1, "as_of": "2026-11-23T12:00:00+00:00"}, "as_of")]:
        assert_problem(sara.get(url, params=params), 422, field)


def test_oversized_headers_and_sign_in_fields_are_422_not_500(as_user, anonymous):
    sara = as_user("sara")
    task = create(sara, "tasks", task_body())
    assert_problem(sara.post(f"/tasks/{task['id']}/start", headers={"Idempotency-Key": "k" * 5000}), 422,
                   "Idempotency-Key")
    assert_problem(sara.post(f"/tasks/{task['id']}/start", headers={"If-Match": '"' + "1" * 100 + '"'}), 422,
                   "If-Match")
    response = anonymous.post("/auth/token", data={"username": "u" * 10_000, "password": "p"})
    assert response.status_code in (401, 422)
    assert_problem(response, response.status_code)
    assert len(history_of(sara, "tasks", task["id"])) == 1


# -- 413 ----------------------------------------------------------------------------------------


def test_a_body_over_one_mebibyte_is_413_and_creates_nothing(as_user):
    sara = as_user("sara")
    total = sara.get("/tasks").json()["total"]
    big = task_body(description="x" * (1 << 20))
    assert_problem(sara.post("/tasks", json=big), 413)
    assert sara.get("/tasks").json()["total"] == total


def test_a_body_over_one_mebibyte_sent_in_chunks_without_a_length_is_413_too(as_user):
    sara = as_user("sara")
    total = sara.get("/tasks").json()["total"]
    payload = httpx.Request("POST", "/", json=task_body(description="x" * (1 << 20))).read()

    def chunks():
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start:start + 64 * 1024]

    response = sara.post("/tasks", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_problem(response, 413)
    assert sara.get("/tasks").json()["total"] == total
