"""What /openapi.json promises, checked against what the server answers: problems, money, methods, media types."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_problem, request_body

PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture
def document(anonymous) -> dict:
    return anonymous.get("/openapi.json").json()


def operations(document: dict):
    for path, by_method in document["paths"].items():
        for method, operation in by_method.items():
            yield f"{method.upper()} {path}", path, operation


def test_every_error_answer_is_documented_as_a_problem_document(document) -> None:
    for name, path, operation in operations(document):
        responses = operation["responses"]
        errors = {status: r for status, r in responses.items() if status >= "400"}
        assert {s for s, r in errors.items() if r.get("content") != PROBLEM_CONTENT} == set(), name
        assert "503" in errors and "Retry-After" in errors["503"]["headers"], name
        if operation.get("security"):
            assert {"401", "403", "429"} <= set(errors), name
        if "{" in path:
            assert "404" in errors, name
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(errors), name
        if any(p["name"] == "If-Match" for p in operation.get("parameters", [])):
            assert "412" in errors, name
    assert "HTTPValidationError" not in document["components"]["schemas"]  # FastAPI's shape, never answered


def test_signing_in_documents_its_throttle_and_wrong_credentials(document) -> None:
    responses = document["paths"]["/auth/token"]["post"]["responses"]
    assert {"401", "415", "422", "429", "503"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]


def test_creating_an_item_links_to_the_operations_on_it(document) -> None:
    links = document["paths"]["/tasks"]["post"]["responses"]["201"]["links"]
    start = next(link for link in links.values() if link["operationId"].startswith("task_start"))
    assert start["parameters"] == {"item_id": "$response.body#/id"}


def test_amount_eur_is_a_json_number_in_the_schema_and_the_body(document, as_user) -> None:
    for model in ("SupportRequestPublic", "SupportRequestCreate"):
        schema = document["components"]["schemas"][model]["properties"]["amount_eur"]
        assert {s.get("type") for s in schema.get("anyOf", [schema])} == {"number", "null"}, schema
    alba = as_user("alba")
    response = alba.post("/support-requests", json=request_body(kind="financial", amount_eur=12000.5))
    assert response.status_code == 201, response.text
    assert response.json()["amount_eur"] == 12000.5
    assert '"amount_eur":12000.5' in response.text
    listed = alba.get("/support-requests", params={"limit": 500}).json()["items"]
    assert next(i for i in listed if i["id"] == response.json()["id"])["amount_eur"] == 12000.5
    assert_problem(alba.post("/support-requests", json=request_body(kind="financial", amount_eur="12000")), 422,
                   "amount_eur", "JSON number")


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PATCH", "/tasks", "GET, HEAD, POST"),
    ("GET", "/calendar/closures/2026-12-24", "DELETE, PUT"),
    ("GET", "/tasks/00000000-0000-0000-0000-000000000000/start", "POST"),
    ("DELETE", "/tasks/00000000-0000-0000-0000-000000000000", "GET, HEAD"),
])
def test_a_405_names_every_method_the_path_takes(as_user, method: str, path: str, allowed: str) -> None:
    response = as_user("hana").request(method, path)
    assert_problem(response, 405, allowed)
    assert response.headers["allow"] == allowed


def test_head_answers_like_get_without_a_body(as_user) -> None:
    hana = as_user("hana")
    got, head = hana.get("/tasks"), hana.head("/tasks")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == got.headers["content-type"]


def test_a_body_of_another_media_type_is_415(as_user, anonymous) -> None:
    refused = as_user("sara").post("/tasks", content=b'{"title": "x"}', headers={"Content-Type": "text/plain"})
    assert_problem(refused, 415, "application/json", "text/plain")
    assert_problem(anonymous.post("/auth/token", json={"username": "sara", "password": "sara"}), 415,
                   "application/x-www-form-urlencoded")


def test_the_diagram_is_served_as_documented(document, as_user) -> None:
    documented = document["paths"]["/workflows/{collection}.mmd"]["get"]["responses"]["200"]["content"]
    served = as_user("hana").get("/workflows/tasks.mmd").headers["content-type"]
    assert list(documented) == ["text/vnd.mermaid"] and served.startswith("text/vnd.mermaid")


def test_amount_eur_documents_the_lower_bound_the_server_enforces(document, as_user) -> None:
    for model in ("SupportRequestPublic", "SupportRequestCreate"):
        schema = document["components"]["schemas"][model]["properties"]["amount_eur"]
        number = next(s for s in schema.get("anyOf", [schema]) if s.get("type") == "number")
        assert number.get("exclusiveMinimum") == 0 and "minimum" not in number, schema
    alba = as_user("alba")
    assert_problem(alba.post("/support-requests", json=request_body(kind="financial", amount_eur=0)), 422,
                   "amount_eur")
    assert alba.post("/support-requests", json=request_body(kind="financial", amount_eur=0.01)).status_code == 201
