"""Search, list filters, sorting and exports over HTTP, on both stores; a Party learns nothing of another's."""

from __future__ import annotations

import csv
import io

import openpyxl

from tests.e2e.conftest import assert_problem, create, item_in_state, request_body, task_body, unique

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[dict[str, object]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row)) for row in rows]


def test_search_finds_an_item_by_a_word_of_its_description_best_match_first(as_user):
    word = unique("zeta")
    task = create(as_user("erik"), "tasks", task_body(title="Border survey", description=f"Survey of {word} posts"))
    sara = as_user("sara")
    answer = sara.get("/search", params={"q": word})
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] == 1
    (hit,) = answer.json()["items"]
    assert {k: hit[k] for k in ("collection", "id", "title", "state")} == {
        "collection": "tasks", "id": task["id"], "title": "Border survey", "state": "open"}
    assert word in hit["snippet"]
    listed = sara.get("/tasks", params={"q": f"{word} surveys"}).json()
    assert [i["id"] for i in listed["items"]] == [task["id"]] and listed["total"] == 1


def test_a_party_liaisons_search_lists_and_exports_hold_none_of_another_partys_requests(as_user):
    word = unique("kappa")
    mine = create(as_user("alba"), "support-requests", request_body(description=f"Albanian {word} exchange"))
    create(as_user("milan"), "support-requests", request_body(party="RS", description=f"Serbian {word} exchange"))
    alba = as_user("alba")
    searched = alba.get("/search", params={"q": word, "limit": 100}).json()
    assert [i["id"] for i in searched["items"]] == [mine["id"]] and searched["total"] == 1
    listed = alba.get("/support-requests", params={"q": word, "limit": 500}).json()
    assert [i["id"] for i in listed["items"]] == [mine["id"]]
    assert alba.get("/support-requests", params={"q": word, "party": "RS"}).json() == {"items": [], "total": 0}
    everything_csv = csv_rows(alba.get("/support-requests", params={"format": "csv"}))
    everything_xlsx = xlsx_rows(alba.get("/support-requests", params={"format": "xlsx"}))
    for rows in (everything_csv, everything_xlsx):
        assert rows and sum(1 for r in rows if not str(r["Title"]).startswith("AL")) == 0
        assert sum(1 for r in rows if str(r["Party"]) == "RS") == 0
    assert sum(1 for r in csv_rows(alba.get("/dashboard", params={"format": "csv"})) if "RS" in r["Item"]) == 0
    # Staff find both.
    assert as_user("sara").get("/search", params={"q": word}).json()["total"] == 2


def test_a_filter_takes_several_values_and_a_list_sorts_by_a_whitelisted_column(as_user):
    word = unique("sigma")
    blocked = item_in_state(as_user, "tasks", "blocked", title=f"{word} blocked", due="2031-01-02")
    opened = item_in_state(as_user, "tasks", "open", title=f"{word} open", due="2030-01-02")
    item_in_state(as_user, "tasks", "in_review", title=f"{word} in review")
    sara = as_user("sara")
    both = sara.get("/tasks", params={"q": word, "state": ["open", "blocked"], "sort": "due"}).json()
    assert [i["id"] for i in both["items"]] == [opened["id"], blocked["id"]] and both["total"] == 2
    reverse = sara.get("/tasks", params={"q": word, "state": ["open", "blocked"], "sort": "-due"}).json()
    assert [i["id"] for i in reverse["items"]] == [blocked["id"], opened["id"]]
    assert_problem(sara.get("/tasks", params={"sort": "fields"}), 422, "sort")
    assert_problem(sara.get("/tasks", params={"state": ["open", "sleeping"]}), 422, "state")


def test_an_invalid_id_filter_is_refused_rather_than_answered_empty(as_user):
    sara = as_user("sara")
    assert_problem(sara.get("/tasks", params={"mandate_id": "not-a-uuid"}), 422, "mandate_id", "UUID")
    assert_problem(sara.get("/search", params={"q": "!!!"}), 422, "word")
    assert_problem(sara.get("/search", params={"q": "x" * 201}), 422, "q")


def test_a_text_filter_holding_a_nul_character_is_refused_on_the_api_and_the_pages(as_user, server):
    # PostgreSQL cannot compare text with NUL: the query failed with a 500 instead of naming the filter.
    sara = as_user("sara")
    assert_problem(sara.get("/tasks", params={"assignee": "sa\x00ra"}), 422, "assignee")
    assert_problem(sara.get("/tasks", params={"assignee": "sa\x00ra", "format": "csv"}), 422, "assignee")
    page = server.anonymous()
    page.post("/login", data={"username": "sara", "password": "sara"})
    assert page.get("/ui/tasks", params={"assignee": "sa\x00ra"}).status_code == 422


def test_exports_hold_the_filtered_rows_with_state_labels_and_linked_titles(as_user):
    word = unique("omega")
    mandate = create(as_user("sara"), "mandates", {"reference": unique("CoM-X-"), "title": f"Mandate {word}",
                                                   "decided_on": "2015-05-05", "assigned_to": "secretariat"})
    item_in_state(as_user, "tasks", "in_review", title=f"{word} reviewed", mandate_id=mandate["id"])
    item_in_state(as_user, "tasks", "open", title=f"{word} opened")
    sara = as_user("sara")
    filtered = {"q": word, "state": "in_review"}
    for rows in (csv_rows(sara.get("/tasks", params={**filtered, "format": "csv"})),
                 xlsx_rows(sara.get("/tasks", params={**filtered, "format": "xlsx"}))):
        assert [(r["Title"], r["State"]) for r in rows] == [(f"{word} reviewed", "In review")]
        assert rows[0]["Mandate"] == f"{mandate['reference']}: Mandate {word}"
    answer = sara.get("/tasks", params={**filtered, "format": "csv"})
    assert answer.headers["x-total-count"] == "1" and int(answer.headers["x-export-limit"]) >= 1000
    board = xlsx_rows(sara.get("/dashboard", params={"format": "xlsx"}))
    assert {"Count", "Progress"} <= {r["Section"] for r in board}


def test_a_text_that_looks_like_a_formula_is_exported_as_text(as_user):
    word = unique("formula")
    create(as_user("erik"), "tasks", task_body(title=f"=HYPERLINK(\"http://example.org\") {word}"))
    rows = xlsx_rows(as_user("sara").get("/tasks", params={"q": word, "format": "xlsx"}))
    assert rows[0]["Title"].startswith("'=HYPERLINK")


def test_a_text_holding_a_control_character_is_exported_without_it_rather_than_failing(as_user):
    # Spreadsheet XML allows no control character but tab and line breaks; the export leaves them out.
    word = unique("bell")
    create(as_user("erik"), "tasks", task_body(title=f"Ring the\u0007 bell {word}", description="one\u000btwo\nthree"))
    answer = as_user("sara").get("/tasks", params={"q": word, "format": "xlsx"})
    assert answer.status_code == 200, answer.text
    rows = xlsx_rows(answer)
    assert rows[0]["Title"] == f"Ring the bell {word}"
