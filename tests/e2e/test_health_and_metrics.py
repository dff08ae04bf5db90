"""/health tells anyone whether the server is up and no more; counts are behind /metrics' roles (issue 10, 7)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.conftest import assert_problem, create, request_body


def _caught_up_health(anonymous: httpx.Client) -> dict:
    deadline = time.monotonic() + 30
    while True:
        body = anonymous.get("/health").json()
        if body["projection_lag"] == 0 or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_health_does_not_move_when_another_party_acts(as_user, anonymous):
    before = _caught_up_health(anonymous)
    create(as_user("milan"), "support-requests", request_body(party="RS"))  # waits until the views show it
    after = _caught_up_health(anonymous)
    assert after == before
    assert not {"audit", "events", "length", "count"} & set(before), before


@pytest.mark.parametrize("username", ["alba", "milan", "sara", "erik"])
def test_metrics_refuse_a_liaison_and_the_staff(as_user, username):
    assert_problem(as_user(username).get("/metrics"), 403, "admin", "auditor", "head")


@pytest.mark.parametrize("username", ["admin", "audrey", "hana"])
def test_metrics_show_the_audit_chain_and_lag_to_admin_auditor_and_head(as_user, username):
    response = as_user(username).get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert "secretariat_audit_chain_length " in response.text
    assert "secretariat_projection_lag_events{" in response.text
