"""The read models over HTTP: the dashboard, read-your-writes, the dashboard in the past, metrics."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

from tests.e2e.conftest import act, assert_problem, create, mandate_body, task_body


def test_a_write_waited_for_shows_at_once_on_the_dashboard_and_in_the_lists(as_user):
    sara, hana = as_user("sara"), as_user("hana")  # their clients send Prefer: wait-for-projection
    before = hana.get("/dashboard").json()
    overdue = (date.today() - timedelta(days=3)).isoformat()
    response = sara.post("/tasks", json=task_body(title="Overdue on the dashboard", due=overdue))
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "wait-for-projection"
    task = response.json()
    after = hana.get("/dashboard").json()
    assert after["counts"]["tasks"]["open"] == before["counts"]["tasks"]["open"] + 1
    assert any((d["item_id"], d["kind"], d["due"]) == (task["id"], "due", overdue) for d in after["overdue"])
    assert hana.get("/tasks", params={"limit": 1}).json()["items"][0]["id"] == task["id"]


def test_an_active_mandates_progress_is_on_the_dashboard(as_user):
    sara, erik = as_user("sara"), as_user("erik")
    mandate = create(sara, "mandates", mandate_body())
    task = create(erik, "tasks", task_body(mandate_id=mandate["id"]))
    act(sara, "tasks", task["id"], "start")
    act(sara, "tasks", task["id"], "submit", {"result": "Done"})
    act(erik, "tasks", task["id"], "approve")
    create(erik, "tasks", task_body(mandate_id=mandate["id"]))
    shown = next(m for m in erik.get("/dashboard").json()["mandates"] if m["id"] == mandate["id"])
    assert (shown["reference"], shown["open"], shown["done"], shown["percent_done"]) == (
        mandate["reference"], 1, 1, 50.0)


def test_the_dashboard_as_of_an_instant_shows_what_it_showed_then(as_user):
    hana, sara = as_user("hana"), as_user("sara")
    time.sleep(0.01)
    then = datetime.now(timezone.utc)
    shown_then = hana.get("/dashboard").json()
    time.sleep(0.01)
    create(sara, "tasks", task_body(title="After the instant"))
    replayed = hana.get("/dashboard", params={"as_of": then.isoformat()}).json()
    assert replayed["counts"] == shown_then["counts"]
    assert replayed["counts"] != hana.get("/dashboard").json()["counts"]
    assert_problem(hana.get("/dashboard", params={"as_of": "2026-01-01T00:00:00"}), 422, "offset")


def test_a_party_liaison_sees_only_their_own_partys_deadlines_and_no_other_counts(as_user):
    dashboard = as_user("alba").get("/dashboard").json()
    assert set(dashboard["counts"]) == set()  # may list none of the collections in full
    assert all(d["collection"] == "support-requests" for d in dashboard["overdue"] + dashboard["upcoming"])
    assert dashboard["mandates"] == []


def test_metrics_are_for_admins_and_auditors(as_user):
    response = as_user("audrey").get("/metrics")
    assert response.status_code == 200
    assert 'secretariat_projection_lag_events{view="items"}' in response.text
    assert_problem(as_user("sara").get("/metrics"), 403)
