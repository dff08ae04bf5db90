"""What a client can discover: /health, /workflows, the Mermaid diagrams, and an accurate /openapi.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POSTGRES
from tests.e2e.conftest import assert_problem

STATES = {
    "mandates": {"adopted", "in_progress", "reported", "fulfilled", "withdrawn"},
    "tasks": {"open", "in_progress", "blocked", "in_review", "done", "cancelled"},
    "support-requests": {"submitted", "screening", "needs_info", "approved", "rejected", "in_delivery",
                         "delivered", "closed", "withdrawn"},
    "meetings": {"planned", "convened", "concluded", "cancelled"},
}


def test_health_answers_without_authentication_naming_the_store(server, anonymous):
    response = anonymous.get("/health")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok" and body["store"] == server.store
    assert isinstance(body["projection_lag"], int) and body["projection_lag"] >= 0


def test_the_server_keeps_its_events_in_the_store_its_url_names(server):
    if server.store == "sqlite":
        database = Path(server.env["SECRETARIAT_DATABASE_URL"].removeprefix("sqlite:///"))
        assert database.is_file() and database.stat().st_size > 0
        return
    import psycopg

    with psycopg.connect(autocommit=True, **POSTGRES) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (server.schema,))}
        assert tables, f"no tables in schema {server.schema}: the ?schema= of the URL was not used"
        events = conn.execute(f"SELECT count(*) FROM {server.schema}.secretariat_events").fetchone()[0]
    assert events > 20  # the demo's


def test_workflows_lists_the_four_workflows_with_their_states_and_actions(as_user):
    response = as_user("erik").get("/workflows")
    assert response.status_code == 200
    workflows = {w["collection"]: w for w in response.json()["workflows"]}
    assert set(workflows) == set(STATES)
    for collection, states in STATES.items():
        assert set(workflows[collection]["states"]) == states
    actions = {c: {a["name"]: a for a in w["actions"]} for c, w in workflows.items()}
    assert set(actions["tasks"]) == {"create", "assign", "start", "block", "unblock", "submit", "approve",
                                     "return", "cancel", "reschedule"}
    assert set(actions["mandates"]) == {"record", "start", "report", "reopen", "fulfil", "withdraw",
                                        "set_report_due"}
    assert set(actions["support-requests"]) == {"submit", "start_screening", "request_info", "provide_info",
                                                "record_duplication_check", "approve", "reject", "start_delivery",
                                                "complete_delivery", "close", "withdraw"}
    approve = actions["tasks"]["approve"]
    assert (approve["from"], approve["to"], set(approve["roles"])) == (["in_review"], "done", {"ewg", "head"})
    assert actions["tasks"]["submit"]["required_fields"] == ["result"]
    assert actions["tasks"]["block"]["reason_required"] is True
    assert actions["support-requests"]["approve"]["roles"] == ["head"]
    assert set(actions["support-requests"]["record_duplication_check"]["required_fields"]) == {"duplicates_found"}
    assert actions["mandates"]["fulfil"]["roles"] == ["head"]
    assert workflows["tasks"]["initial"] == "open" and set(workflows["tasks"]["terminal"]) == {"done", "cancelled"}


def test_workflows_need_a_token(anonymous):
    assert_problem(anonymous.get("/workflows"), 401)
    assert_problem(anonymous.get("/workflows/tasks.mmd"), 401)


@pytest.mark.parametrize("collection, edge", [("tasks", "in_review --> done: approve"),
                                              ("mandates", "reported --> fulfilled: fulfil"),
                                              ("support-requests", "screening --> approved: approve")])
def test_each_workflow_diagram_is_mermaid_state_diagram_text(as_user, collection, edge):
    response = as_user("audrey").get(f"/workflows/{collection}.mmd")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/")
    text = response.text
    assert text.startswith("stateDiagram-v2")
    assert edge in text
    for state in STATES[collection]:
        assert state in text


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref and drop the `null` branch of an optional body."""
    if "anyOf" in schema:
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return document["components"]["schemas"][name]
    return schema


@pytest.fixture
def openapi(anonymous) -> dict[str, Any]:
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def workflows(as_user) -> list[dict[str, Any]]:
    return as_user("sara").get("/workflows").json()["workflows"]


def test_openapi_describes_every_action_route_with_its_request_body(openapi, workflows):
    paths = openapi["paths"]
    assert "/tasks/{item_id}/approve" in paths
    for workflow in workflows:
        collection = workflow["collection"]
        for route in (f"/{collection}", f"/{collection}/{{item_id}}", f"/{collection}/{{item_id}}/history"):
            assert route in paths, route
        assert "get" in paths[f"/{collection}"] and "post" in paths[f"/{collection}"]
        for action in workflow["actions"]:
            if action["from"]:
                path = f"/{collection}/{{item_id}}/{action['name']}"
                assert path in paths and "post" in paths[path], path
                operation = paths[path]["post"]
            else:
                operation = paths[f"/{collection}"]["post"]
            body = _schema(openapi, operation["requestBody"]["content"]["application/json"]["schema"])
            assert body.get("additionalProperties") is False, (path, body)
            properties = set(body["properties"])
            assert set(action["required_fields"]) | set(action["optional_fields"]) | {"reason"} == properties
            required = set(body.get("required", []))
            assert set(action["required_fields"]) <= required, (action["name"], required)
            assert ("reason" in required) == action["reason_required"], (action["name"], required)
            # 404 where there is an item to miss: an action, not the creation (an unknown mandate_id there is a 422)
            expected = {"401", "403", "409", "422"} | ({"404"} if action["from"] else set())
            assert expected <= set(operation["responses"]), operation["responses"]


def test_openapi_marks_the_body_required_where_the_action_cannot_go_without_one(openapi, workflows):
    """An action with a required field or reason needs a body: the document must not call it optional."""
    optional = []
    for workflow in workflows:
        for action in workflow["actions"]:
            if action["from"] and (action["required_fields"] or action["reason_required"]):
                path = f"/{workflow['collection']}/{{item_id}}/{action['name']}"
                if openapi["paths"][path]["post"]["requestBody"].get("required") is not True:
                    optional.append(path)
    assert not optional, f"request bodies documented as optional though required: {optional}"


def test_a_fields_required_flag_agrees_between_workflows_and_openapi(openapi, workflows):
    """/workflows and /openapi.json describe the same creating bodies: a field required in one is in the other."""
    disagreements = []
    for workflow in workflows:
        create = next(a for a in workflow["actions"] if not a["from"])
        operation = openapi["paths"][f"/{workflow['collection']}"]["post"]
        body = _schema(openapi, operation["requestBody"]["content"]["application/json"]["schema"])
        for field in workflow["fields"]:
            if field["name"] in create["optional_fields"] + create["required_fields"]:
                if field["required"] != (field["name"] in body.get("required", [])):
                    disagreements.append((workflow["collection"], field["name"], field["required"]))
    assert not disagreements, f"(collection, field, required in /workflows) that OpenAPI says otherwise: " \
                              f"{disagreements}"


def test_openapi_describes_the_routes_api_md_promises(openapi):
    # /reminders (the scheduler's inbox) and /audit/* (the audit chain) join this list with their issues.
    promised = ["/auth/token", "/health", "/workflows", "/mandates/{item_id}/progress", "/dashboard"]
    missing = [p for p in promised if p not in openapi["paths"]]
    assert not missing, f"routes of API.md that the server does not serve: {missing}"


def test_the_api_documentation_page_loads_nothing_from_elsewhere(anonymous):
    """/docs must work offline (an air-gapped Secretariat): its scripts and styles are served by the app itself."""
    import re

    page = anonymous.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
    assert urls, page.text
    assert not [u for u in urls if re.match(r"(?:[a-z]+:)?//", u)], urls
    for url in urls:
        asset = anonymous.get(url)
        assert asset.status_code == 200 and asset.content, url
