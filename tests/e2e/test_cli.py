"""The command line next to a running server: role changes take effect at once, the demo is safe to rerun."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.conftest import SECRETARIAT, assert_item, assert_problem, create, task_body, unique


def test_a_role_revoked_on_the_command_line_is_gone_from_the_users_next_request(server, as_user):
    username, password = unique("rita"), "a-long-enough-password"
    added = as_user("admin").post("/users", json={"username": username, "password": password,
                                                  "roles": ["secretariat", "auditor"]})
    assert added.status_code == 201, added.text
    assert added.headers["location"] == f"/users/{username}"
    rita = server.client(username, password)
    task = create(rita, "tasks", task_body())

    revoked = server.cli("users", "revoke", username, "secretariat")
    assert revoked.returncode == 0, revoked.stderr
    assert "Revoked secretariat" in revoked.stderr + revoked.stdout

    # The same token, the very next request: the write is refused, the read (auditor) still works.
    assert_problem(rita.post("/tasks", json=task_body()), 403)
    assert_problem(rita.post(f"/tasks/{task['id']}/start"), 403)
    assert_item(rita.get(f"/tasks/{task['id']}"), state="open", version=1, allowed=[])
    assert rita.get("/me").json()["roles"] == ["auditor"]
    shown = server.cli("users", "show", username)
    assert shown.returncode == 0 and "auditor" in shown.stdout and "secretariat" not in shown.stdout

    granted = server.cli("users", "grant", username, "secretariat")
    assert granted.returncode == 0, granted.stderr
    assert_item(rita.post(f"/tasks/{task['id']}/start"), state="in_progress", version=2)


def test_revoking_a_role_the_user_does_not_hold_fails_without_changing_anything(server, as_user):
    result = server.cli("users", "revoke", "erik", "head")
    assert result.returncode != 0
    assert "does not have the role head" in result.stderr + result.stdout
    assert as_user("erik").get("/me").json()["roles"] == ["ewg"]


def test_running_the_demo_again_against_a_live_server_adds_nothing(server, as_user):
    sara = as_user("sara")
    before = {c: sara.get(f"/{c}").json()["total"] for c in ("mandates", "tasks", "support-requests")}
    result = server.cli("demo")
    assert result.returncode == 0, result.stderr
    assert "0 new records" in result.stderr + result.stdout
    assert {c: sara.get(f"/{c}").json()["total"] for c in before} == before


@pytest.mark.parametrize("command", [[], ["serve"], ["demo"], ["users"], ["users", "revoke"]],
                         ids=["root", "serve", "demo", "users", "users-revoke"])
def test_every_command_answers_help(command):
    result = subprocess.run([str(SECRETARIAT), *command, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
