"""GET /audit/verify, the chain head in /metrics and `secretariat audit verify`, over a real server."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import assert_problem, item_in_state


@pytest.mark.parametrize("username", ["audrey", "hana"])
def test_the_auditor_and_the_head_find_the_chain_whole(as_user, username):
    item_in_state(as_user, "tasks", "in_progress")
    response = as_user(username).get("/audit/verify")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["events"] > 0 and len(body["head"]) == 64, body


@pytest.mark.parametrize("username", ["alba", "sara", "erik", "admin"])
def test_everyone_else_is_refused_with_403(as_user, username):
    assert_problem(as_user(username).get("/audit/verify"), 403, "auditor", "head")


def test_metrics_show_the_chain_length_and_head(as_user):
    verified = as_user("audrey").get("/audit/verify").json()
    metrics = as_user("audrey").get("/metrics").text
    length = int(float(re.search(r"^secretariat_audit_chain_length (\S+)$", metrics, re.M).group(1)))
    head = re.search(r'^secretariat_audit_chain_head_info\{hash="([0-9a-f]{64})"\} 1.0$', metrics, re.M).group(1)
    assert length >= verified["events"]
    if length == verified["events"]:
        assert head == verified["head"]


def test_the_command_line_verifies_the_same_chain(server, as_user):
    as_user("audrey").get("/audit/verify")  # waits until the server sealed what is recorded
    done = server.cli("audit", "verify", "--seal")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["ok"] is True
    assert "The audit chain holds" in done.stderr
