"""Every query and path parameter has its range in the OpenAPI document, and a value outside it is a 422.

Each URL below answered 500 before (issue 10, item 12): a 64-bit overflow in the database, an
instant that overflowed when moved to UTC or by a day, a page number that overflowed an offset.
"""

from __future__ import annotations

import httpx
import pytest

from api.page_session import SESSION_COOKIE
from tests.e2e.conftest import assert_problem

OUT_OF_RANGE = [
    ("/reminders?offset=9223372036854775808", "offset"),
    ("/audit/events?after=9223372036854775808", "after"),
    ("/dashboard?as_of=9999-12-17T00:00:00%2B00:00", "as_of"),
    ("/dashboard?as_of=0001-01-01T00:00:00%2B14:00", "as_of"),
    ("/audit/events?since=0001-01-01T00:00:00%2B14:00", "since"),
    ("/tasks?offset=1000000001", "offset"),
    ("/mandates/00000000-0000-0000-0000-000000000000?version=2147483649", "version"),
    # The year as written bounds an instant, as the documented pattern says, whatever its offset.
    ("/dashboard?as_of=9000-01-01T00:00:00%2B14:00", "as_of"),
    ("/audit/events?until=1899-12-31T23:59:59-14:00", "until"),
]

AT_THE_EDGES = ["/reminders?offset=1000000000", "/audit/events?after=9223372036854775807",
                "/dashboard?as_of=1900-01-01T00:00:00%2B00:00", "/dashboard?as_of=8999-12-31T23:59:59Z",
                "/audit/events?since=1900-01-01T00:00:00Z&until=8999-12-31T23:59:59.999999Z",
                "/dashboard?as_of=8999-12-31T23:59:59-14:00", "/dashboard?as_of=1900-01-01T00:00:00%2B14:00",
                "/audit/events?since=1900-01-01T00:00:00%2B23:59&until=8999-12-31T23:59:59-23:59"]


@pytest.mark.parametrize(("url", "parameter"), OUT_OF_RANGE, ids=[url for url, _ in OUT_OF_RANGE])
def test_a_parameter_out_of_its_range_is_422_naming_it(as_user, url: str, parameter: str) -> None:
    body = assert_problem(as_user("hana").get(url), 422, parameter)
    assert [e["field"] for e in body["errors"]] == [parameter], body


@pytest.mark.parametrize("url", AT_THE_EDGES)
def test_the_first_and_last_values_in_range_are_answered(as_user, url: str) -> None:
    response = as_user("hana").get(url)
    assert response.status_code == 200, response.text


def test_a_page_number_out_of_range_is_a_422_page(server) -> None:
    with httpx.Client(base_url=server.base_url, cookies={SESSION_COOKIE: server.token("sara")}) as browser:
        page = browser.get("/ui/tasks?page=99999999999999999999")
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html"), page.text[:300]
        assert "page must be a whole number from 1 to 20000000" in page.text
        assert browser.get("/ui/tasks?page=20000000").status_code == 200


def test_every_number_and_instant_parameter_has_its_range_in_the_document(anonymous) -> None:
    document = anonymous.get("/openapi.json").json()
    unbounded = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                for schema in parameter["schema"].get("anyOf", [parameter["schema"]]):
                    name = f"{method.upper()} {path} {parameter['name']}"
                    if schema.get("type") == "integer" and not {"minimum", "maximum"} <= set(schema):
                        unbounded.append(name)
                    if schema.get("format") == "date-time" and "pattern" not in schema:
                        unbounded.append(name)
    assert unbounded == [], unbounded
