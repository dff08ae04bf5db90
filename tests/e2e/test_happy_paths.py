"""Each workflow's whole way over real HTTP: state, version, allowed actions, ETag and Location at every step."""

from __future__ import annotations

from tests.e2e.conftest import (assert_item, assert_problem, create, history_of, in_days, mandate_body,
                                request_body, task_body)


def test_a_mandate_is_recorded_started_reported_and_fulfilled_only_once_its_linked_task_is_approved(as_user):
    sara, hana, erik = as_user("sara"), as_user("hana"), as_user("erik")
    body = mandate_body(report_due="2027-06-30")

    response = sara.post("/mandates", json=body)
    mandate = assert_item(response, 201, state="adopted", version=1, allowed={"start", "set_report_due"})
    url = f"/mandates/{mandate['id']}"
    assert response.headers["location"] == url
    assert {k: mandate[k] for k in body} == body
    # Its reminders go to the role it is assigned to; none has been raised yet.
    assert mandate["deadlines"] == [{"kind": "report_due", "due": "2027-06-30", "open": True,
                                     "addressed_to": ["role:secretariat"], "last_reminder": None}]
    # The head sees what the head may do with the same item.
    assert_item(hana.get(url), state="adopted", version=1, allowed={"start", "withdraw", "set_report_due"})

    assert_item(sara.post(f"{url}/start"), state="in_progress", version=2, allowed={"report", "set_report_due"})

    # A task serving the mandate is linked to it (an event on the mandate too).
    task = create(erik, "tasks", task_body(mandate_id=mandate["id"], title="Draft the support guidelines"))
    assert task["mandate_id"] == mandate["id"]
    assert_item(sara.get(url), state="in_progress", version=3)

    reported = assert_item(sara.post(f"{url}/report", json={"summary": "Guidelines drafted and circulated."}),
                           state="reported", version=4, allowed={"reopen", "set_report_due"})
    assert reported["summary"] == "Guidelines drafted and circulated."
    assert [(d["kind"], d["open"]) for d in reported["deadlines"]] == [("report_due", False)]
    # While the task is open, fulfil is not offered: it is blocked, and the item says why and what to do.
    waiting = assert_item(hana.get(url))
    assert set(waiting["allowed_actions"]) == {"reopen", "set_report_due"}
    assert [(b["action"], b["fix"]) for b in waiting["blocked_actions"]] == [
        ("fulfil", "approve or cancel those tasks first")]

    # While the task is open, fulfil is refused, naming the task, and nothing is recorded.
    refused = hana.post(f"{url}/fulfil")
    assert_problem(refused, 409, task["id"])
    assert len(history_of(hana, "mandates", mandate["id"])) == 4

    task_url = f"/tasks/{task['id']}"
    assert_item(sara.post(f"{task_url}/start"), state="in_progress")
    assert_item(sara.post(f"{task_url}/submit", json={"result": "Guidelines v1"}), state="in_review")
    assert_item(erik.post(f"{task_url}/approve"), state="done", version=4, allowed=set())

    fulfilled = assert_item(hana.post(f"{url}/fulfil", json={"reason": "Accepted by the 20th CoM"}),
                            state="fulfilled", version=6, allowed=set())
    assert fulfilled["reference"] == body["reference"]

    events = history_of(hana, "mandates", mandate["id"])
    assert [(e["version"], e["type"], e["actor"]) for e in events] == [
        (1, "Mandate.Recorded", "sara"), (2, "Mandate.Started", "sara"), (3, "Mandate.TaskLinked", "erik"),
        (4, "Mandate.Reported", "sara"), (5, "Mandate.TaskSettled", "erik"), (6, "Mandate.Fulfilled", "hana")]
    assert events[-1]["reason"] == "Accepted by the 20th CoM"


def test_a_mandates_progress_counts_its_linked_tasks_by_state(as_user):
    sara, erik = as_user("sara"), as_user("erik")
    mandate = create(sara, "mandates", mandate_body())
    done, still_open = (create(erik, "tasks", task_body(mandate_id=mandate["id"])) for _ in range(2))
    for action, body, client in [("start", None, sara), ("submit", {"result": "Done"}, sara),
                                 ("approve", None, erik)]:
        assert client.post(f"/tasks/{done['id']}/{action}", json=body).status_code == 200

    response = sara.get(f"/mandates/{mandate['id']}/progress")
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    progress = response.json()
    assert progress["tasks"] == {"done": 1, "open": 1}
    assert (progress["open"], progress["done"], progress["percent_done"]) == (1, 1, 50)


def test_a_task_is_created_started_blocked_unblocked_submitted_returned_resubmitted_and_approved(as_user):
    sara, erik = as_user("sara"), as_user("erik")

    due = in_days(100)
    response = erik.post("/tasks", json=task_body(partners=["SELEC", "Europol"], description="All of them", due=due))
    task = assert_item(response, 201, state="open", version=1, allowed={"assign", "cancel", "reschedule"})
    url = f"/tasks/{task['id']}"
    assert response.headers["location"] == url
    assert (task["title"], task["assignee"], task["due"], task["partners"]) == (
        "Catalogue bilateral agreements", "sara", due, ["SELEC", "Europol"])
    assert task["deadlines"] == [{"kind": "due", "due": due, "open": True, "addressed_to": ["user:sara"],
                                  "last_reminder": None}]
    # The assignee (secretariat) may start it; the EWG may not.
    assert_item(sara.get(url), allowed={"assign", "start", "reschedule"})

    steps = [
        (sara, "start", None, "in_progress", {"assign", "block", "submit", "reschedule"}),
        (sara, "block", {"reason": "Waiting for the Parties' lists"}, "blocked", {"assign", "unblock", "reschedule"}),
        (sara, "unblock", None, "in_progress", {"assign", "block", "submit", "reschedule"}),
        (sara, "submit", {"result": "Catalogue v1"}, "in_review", {"reschedule"}),
        (erik, "return", {"reason": "Add the 2024 agreements"}, "in_progress",
         {"assign", "cancel", "reschedule"}),
        (sara, "submit", {"result": "Catalogue v2"}, "in_review", {"reschedule"}),
        (erik, "approve", None, "done", set()),
    ]
    for version, (client, action, body, state, allowed) in enumerate(steps, start=2):
        response = client.post(f"{url}/{action}", json=body)
        task = assert_item(response, state=state, version=version, allowed=allowed)

    assert task["result"] == "Catalogue v2"
    assert [(d["due"], d["open"]) for d in task["deadlines"]] == [(due, False)]
    final = sara.get(url)
    assert_item(final, state="done", version=8, allowed=set())
    assert final.headers["etag"] == '"8"'

    events = history_of(erik, "tasks", task["id"])
    assert [(e["type"], e["actor"], e["reason"]) for e in events] == [
        ("Task.Created", "erik", None), ("Task.Started", "sara", None),
        ("Task.Blocked", "sara", "Waiting for the Parties' lists"), ("Task.Unblocked", "sara", None),
        ("Task.Submitted", "sara", None), ("Task.Returned", "erik", "Add the 2024 agreements"),
        ("Task.Submitted", "sara", None), ("Task.Approved", "erik", None)]
    assert events[4]["data"] == {"result": "Catalogue v1"}


def test_a_support_request_goes_from_a_partys_submission_through_screening_to_closed(as_user):
    alba, sara, hana = as_user("alba"), as_user("sara"), as_user("hana")

    response = alba.post("/support-requests", json=request_body(kind="financial", amount_eur=12000))
    request = assert_item(response, 201, state="submitted", version=1, allowed={"withdraw"})
    url = f"/support-requests/{request['id']}"
    assert response.headers["location"] == url
    assert (request["party"], request["kind"], request["amount_eur"], request["operational_involvement"]) == (
        "AL", "financial", 12000, False)
    kinds = {d["kind"]: d for d in request["deadlines"]}
    assert set(kinds) == {"decision", "needed_by"} and kinds["decision"]["open"] is True
    assert kinds["needed_by"] == {"kind": "needed_by", "due": request["needed_by"], "open": True,
                                  "addressed_to": ["role:secretariat"], "last_reminder": None}
    assert_item(sara.get(url), allowed={"start_screening", "withdraw"})

    steps = [
        (sara, "start_screening", None, "screening",
         {"request_info", "record_duplication_check", "withdraw"}),
        (sara, "request_info", {"reason": "Which officers, and for how long?"}, "needs_info", {"provide_info",
                                                                                               "withdraw"}),
        (alba, "provide_info", {"info": "Four border police officers for two weeks."}, "screening", {"withdraw"}),
        (sara, "record_duplication_check", {"duplicates_found": False, "notes": "No other donor involved."},
         "screening", {"request_info", "record_duplication_check", "withdraw"}),
        (hana, "approve", {"reason": "Within the 2015 mandate"}, "approved", {"start_delivery"}),
        (sara, "start_delivery", None, "in_delivery", {"complete_delivery"}),
        (sara, "complete_delivery", {"report": "Exchange took place 1-14 March."}, "delivered", {"close"}),
        (sara, "close", None, "closed", set()),
    ]
    for version, (client, action, body, state, allowed) in enumerate(steps, start=2):
        request = assert_item(client.post(f"{url}/{action}", json=body), state=state, version=version,
                              allowed=allowed)
        if action == "provide_info":
            assert request["info"] == "Four border police officers for two weeks."

    assert (request["duplicates_found"], request["notes"], request["report"]) == (
        False, "No other donor involved.", "Exchange took place 1-14 March.")
    assert {d["kind"]: d["open"] for d in request["deadlines"]} == {"decision": False, "needed_by": False}
    # The Party still reads its own request, closed.
    assert_item(alba.get(url), state="closed", version=9, allowed=set())

    events = history_of(alba, "support-requests", request["id"])
    assert [(e["version"], e["type"], e["actor"]) for e in events] == [
        (1, "SupportRequest.Submitted", "alba"), (2, "SupportRequest.ScreeningStarted", "sara"),
        (3, "SupportRequest.InfoRequested", "sara"), (4, "SupportRequest.InfoProvided", "alba"),
        (5, "SupportRequest.DuplicationCheckRecorded", "sara"), (6, "SupportRequest.Approved", "hana"),
        (7, "SupportRequest.DeliveryStarted", "sara"), (8, "SupportRequest.DeliveryCompleted", "sara"),
        (9, "SupportRequest.Closed", "sara")]
    assert events[2]["reason"] == "Which officers, and for how long?"
    assert events[4]["data"] == {"duplicates_found": False, "notes": "No other donor involved."}


def test_a_new_item_heads_its_list_and_the_lists_filter_by_state_and_field(as_user):
    sara = as_user("sara")
    mandate = create(sara, "mandates", mandate_body())
    task = create(sara, "tasks", task_body(mandate_id=mandate["id"], assignee="erik"))

    page = sara.get("/tasks")
    assert page.status_code == 200 and page.headers["content-type"].startswith("application/json")
    body = page.json()
    assert body["items"][0]["id"] == task["id"] and body["total"] >= 8  # seven demo tasks and this one

    linked = sara.get("/tasks", params={"mandate_id": mandate["id"]}).json()
    assert [t["id"] for t in linked["items"]] == [task["id"]] and linked["total"] == 1

    opened = sara.get("/tasks", params={"state": "open", "assignee": "erik", "limit": 500}).json()
    assert task["id"] in [t["id"] for t in opened["items"]]
    assert all(t["state"] == "open" and t["assignee"] == "erik" for t in opened["items"])

    first = sara.get("/tasks", params={"limit": 1, "offset": 0}).json()
    second = sara.get("/tasks", params={"limit": 1, "offset": 1}).json()
    assert len(first["items"]) == len(second["items"]) == 1 and first["total"] == second["total"]
    assert first["items"][0]["id"] != second["items"][0]["id"]
