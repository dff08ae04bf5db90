"""A command from someone not signed in is answered 401 before anything of its parameters or body is judged,
whichever half of the check refuses it: the token itself, or its user (signed out, deactivated)."""

from __future__ import annotations

from datetime import date

import pytest
from starlette.testclient import TestClient

from api.app import create_api
from projections.database import engine_for
from projections.queries import ReadModels
from projections.runner import ProjectionRunner
from tests.factories import ADMIN, register_cast

GOOD_TASK = {"title": "Catalogue the agreements", "assignee": "sara", "due": date(2026, 12, 15).isoformat()}
BAD_TASK = {"title": "", "due": "not a date"}


@pytest.fixture
def api(service, store_env):
    register_cast(service)
    engine = engine_for(store_env, writer=True)
    app = create_api(service, ReadModels(engine, service.mapper.transcoder), ProjectionRunner(service, engine, []),
                     token_key="k" * 48)
    with TestClient(app) as client:
        yield app, client
    engine.dispose()


def bearer(app, username: str) -> dict[str, str]:
    generation = app.state.service.user(username).generation_pair()[0]
    return {"Authorization": f"Bearer {app.state.tokens.issue(username, generation)}"}


def assert_401(response):
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["type"] == "urn:secretariat:problem:not-authenticated"


@pytest.mark.parametrize("store_env", ["sqlite"], indirect=True)
def test_a_signed_in_user_gets_the_422_and_the_201(api):
    app, client = api
    sara = bearer(app, "sara")
    assert client.post("/tasks", json=BAD_TASK, headers=sara).status_code == 422
    created = client.post("/tasks", json=GOOD_TASK, headers=sara)
    assert created.status_code == 201, created.text
    task = created.json()["id"]
    assert client.post(f"/tasks/{task}/start", headers={**sara, "If-Match": "x" * 51}).status_code == 422
    assert client.post(f"/tasks/{task}/submit", json={}, headers=sara).status_code in (409, 422)
    assert client.post(f"/tasks/{task}/start", headers=sara).status_code == 200


@pytest.mark.parametrize("store_env", ["sqlite"], indirect=True)
@pytest.mark.parametrize("end", [
    pytest.param(lambda s: s.sign_out("sara", everywhere=True), id="signed out"),
    pytest.param(lambda s: s.deactivate_user("sara", "Left the Secretariat", actor=ADMIN), id="deactivated"),
])
def test_a_token_whose_user_ended_it_gets_401_whatever_its_body_and_headers(api, end):
    app, client = api
    sara = bearer(app, "sara")
    task = client.post("/tasks", json=GOOD_TASK, headers=sara).json()["id"]
    end(app.state.service)
    assert_401(client.post("/tasks", json=BAD_TASK, headers=sara))
    assert_401(client.post("/tasks", json=GOOD_TASK, headers=sara))
    assert_401(client.post("/tasks", content=b"{}", headers={**sara, "Content-Type": "text/plain"}))
    assert_401(client.post(f"/tasks/{task}/start", headers={**sara, "If-Match": "x" * 51}))
    assert_401(client.post(f"/tasks/{task}/submit", json={"result": 5}, headers=sara))
    assert_401(client.post(f"/tasks/{task}/start", headers=sara))


@pytest.mark.parametrize("store_env", ["sqlite"], indirect=True)
def test_no_token_or_a_forged_one_gets_401_whatever_its_body(api):
    _app, client = api
    forged = {"Authorization": "Bearer not.a.token"}
    for headers in ({}, forged):
        assert_401(client.post("/tasks", json=BAD_TASK, headers=headers))
        assert_401(client.post("/tasks/00000000-0000-0000-0000-000000000000/start",
                               headers={**headers, "If-Match": "x" * 51}))
