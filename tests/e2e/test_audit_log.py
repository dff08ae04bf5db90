"""The global audit log over HTTP and the replay command: auditors and heads read it, nobody else does."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import act, assert_problem, create, task_body, unique


def log_of(client, **params) -> list[dict]:
    """Every event the filters match, page by page (small pages, to go through the cursor)."""
    events, after = [], 0
    while True:
        response = client.get("/audit/events", params={**params, "limit": 2, "after": after})
        assert response.status_code == 200, response.text
        body = response.json()
        events += body["events"]
        if body["next"] is None:
            return events
        after = body["next"]


def test_an_auditor_follows_an_item_and_a_user_through_the_log(server, as_user):
    username, password = unique("rita"), "a-long-enough-password"
    added = as_user("admin").post("/users", json={"username": username, "password": password,
                                                  "roles": ["secretariat"]})
    assert added.status_code == 201, added.text
    rita = server.client(username, password)
    task = create(as_user("erik"), "tasks", task_body())
    act(rita, "tasks", task["id"], "start")
    act(rita, "tasks", task["id"], "block", {"reason": "Waiting for the Parties"})

    audrey = as_user("audrey")
    by_item = log_of(audrey, item_id=task["id"])
    assert [(e["version"], e["type"], e["actor"]) for e in by_item] == [
        (1, "Task.Created", "erik"), (2, "Task.Started", username), (3, "Task.Blocked", username)]
    assert all(e["kind"] == "task" and e["collection"] == "tasks" for e in by_item)
    assert by_item[2]["reason"] == "Waiting for the Parties" and by_item[0]["data"]["title"] == task_body()["title"]
    assert [e["position"] for e in by_item] == sorted({e["position"] for e in by_item})
    assert all(e["occurred_at"] == e["at"] for e in by_item)  # live commands: they happened when recorded

    by_actor = log_of(audrey, actor=username)
    assert [e["type"] for e in by_actor] == ["Task.Started", "Task.Blocked"]
    registered = [e for e in log_of(audrey, actor="admin", type="Registered") if e["data"]["username"] == username]
    assert len(registered) == 1 and registered[0]["kind"] == "user" and registered[0]["collection"] is None
    assert "password" not in str(registered)
    since = log_of(audrey, item_id=task["id"], since=by_item[1]["at"])
    assert [e["version"] for e in since] == [2, 3]
    started = log_of(audrey, type="Started", item_id=task["id"])
    assert [e["version"] for e in started] == [2]


def test_the_head_may_read_the_log(as_user):
    response = as_user("hana").get("/audit/events", params={"limit": 5})
    assert response.status_code == 200, response.text
    assert len(response.json()["events"]) == 5 and response.json()["next"] is not None


@pytest.mark.parametrize("username", ["alba", "sara", "erik", "admin"])
def test_a_party_liaison_and_staff_without_an_audit_role_are_refused(as_user, username):
    assert_problem(as_user(username).get("/audit/events"), 403, "auditor, head")


def test_the_log_needs_a_signed_in_user(anonymous):
    assert anonymous.get("/audit/events").status_code == 401


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"after": -1}, {"since": "2026-01-01T00:00:00"},
                                    {"until": "yesterday"}, {"item_id": "not-an-id"}, {"type": "Task.Aproved"},
                                    {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}],
                         ids=["limit-0", "limit-1001", "after", "naive-since", "until", "item_id", "type", "order"])
def test_bad_filters_are_refused_with_422(as_user, params):
    assert_problem(as_user("audrey").get("/audit/events", params=params), 422)


def test_an_actor_filter_holding_a_nul_character_is_refused_on_the_api_and_the_audit_page(server, as_user):
    # PostgreSQL cannot compare text with NUL: the log's query failed with a 500 instead of naming the filter.
    assert_problem(as_user("audrey").get("/audit/events", params={"actor": "au\x00drey"}), 422, "actor")
    page = server.anonymous()
    page.post("/login", data={"username": "audrey", "password": "audrey"})
    assert page.get("/ui/audit", params={"actor": "au\x00drey"}).status_code == 422


def test_audit_replay_prints_an_items_timeline(server, as_user):
    task = create(as_user("erik"), "tasks", task_body(title="Replay me"))
    act(as_user("sara"), "tasks", task["id"], "start")
    act(as_user("sara"), "tasks", task["id"], "block", {"reason": "Waiting [for] the Parties"})
    result = server.cli("audit", "replay", task["id"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Task {task['id']}" in out and "3 events" in out
    assert out.index("Task.Created") < out.index("Task.Started") < out.index("Task.Blocked")
    assert "∅ → open" in out and "open → in_progress" in out and "in_progress → blocked" in out
    assert "reason: Waiting [for] the Parties" in out and '"title": "Replay me"' in out
    assert "erik" in out and "sara" in out and "Europe/Ljubljana" in out


def test_audit_replay_of_an_unknown_id_exits_2_saying_so(server):
    for unknown in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        result = server.cli("audit", "replay", unknown)
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert f"No mandate, task or support request with id {unknown}" in result.stderr


def test_audit_replay_answers_help(server):
    result = server.cli("audit", "replay", "--help")
    assert result.returncode == 0 and "timeline" in result.stdout
