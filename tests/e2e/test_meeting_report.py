"""GET /meetings/{id}/report over HTTP, on SQLite and PostgreSQL: the changes between two meetings, in four formats.

A server of its own (another test's meetings would change which meeting is the previous one),
after `secretariat demo`. Two Committee meetings three days either side of today; the changes the
test makes now fall between them, and so do the demo's. What the report lists is compared with a
replay done here from every item's history, its figures with the dashboard and the items as of the
meeting's first day, and its Markdown, HTML and Word forms with its figures.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any, Iterator
from uuid import uuid4
from zoneinfo import ZoneInfo

import docx
import pytest

from report.outline import FIGURES, HEADINGS, TITLE
from tests.e2e.conftest import (Server, act, assert_problem, create, history_of, mandate_body, request_body,
                                running_server, task_body)

TZ = ZoneInfo("Europe/Ljubljana")  # the served default, SECRETARIAT_TIMEZONE
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def own(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(request.param, tmp_path_factory.mktemp(f"report-{request.param}")) as srv:
        yield srv


def day_starts(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=TZ)


def meeting_body(starts_on: date, number: str) -> dict[str, Any]:
    return {"body": "com", "title": "Committee of Ministers", "number": number, "place": "Sofia",
            "starts_on": starts_on.isoformat(), "ends_on": starts_on.isoformat(), "participants": ["AL", "BA"]}


@pytest.fixture(scope="module")
def story(own: Server) -> dict[str, Any]:
    sara, hana, today = own.client("sara"), own.client("hana"), datetime.now(TZ).date()
    previous = create(sara, "meetings", meeting_body(today - timedelta(days=3), "5th"))
    this = create(sara, "meetings", meeting_body(today + timedelta(days=3), "6th"))
    act(sara, "meetings", previous["id"], "convene")
    act(sara, "meetings", previous["id"], "record_conclusion",
        {"conclusion_text": "Catalogue the bilateral agreements", "tasks_someone": True})
    made = create(sara, "mandates", mandate_body(meeting_id=previous["id"], conclusion=1))
    act(sara, "mandates", made["id"], "start")
    done = create(sara, "tasks", task_body(mandate_id=made["id"]))
    for action, body in (("start", None), ("submit", {"result": "The catalogue"})):
        act(sara, "tasks", done["id"], action, body)
    act(hana, "tasks", done["id"], "approve")
    late = create(sara, "tasks", task_body(title="Overdue already", due=(today - timedelta(days=1)).isoformat(),
                                           mandate_id=made["id"]))
    create(own.client("alba"), "support-requests", request_body(party="AL"))
    create(own.client("milan"), "support-requests", request_body(party="RS", kind="financial", amount_eur=900))
    return {"previous": previous, "this": this, "made": made, "done": done, "late": late,
            "since": day_starts(today - timedelta(days=3)), "until": day_starts(today + timedelta(days=3))}


def report_of(client, meeting_id: str, format: str = "json"):
    response = client.get(f"/meetings/{meeting_id}/report", params={"format": format})
    assert response.status_code == 200, response.text
    return response


def every_id(client, collection: str) -> list[str]:
    response = client.get(f"/{collection}", params={"limit": 500})
    assert response.status_code == 200 and response.json()["total"] <= 500, response.text
    return [item["id"] for item in response.json()["items"]]


def test_the_report_lists_exactly_the_changes_made_between_the_two_meetings_dates(own, story):
    sara = own.client("sara")
    report = report_of(sara, story["this"]["id"]).json()
    assert report["previous_meeting"]["id"] == story["previous"]["id"]
    since, until = story["since"], story["until"]
    assert (datetime.fromisoformat(report["since"]), datetime.fromisoformat(report["as_of"])) == (since, until)
    changes, new_mandates, done = Counter(), set(), set()
    for collection in ("mandates", "tasks"):  # the replay, from each item's history
        for item_id in every_id(sara, collection):
            for e in history_of(sara, collection, item_id):
                # When it happened (the demo's history is imported with its past dates), where the history says.
                if not since < datetime.fromisoformat(e.get("occurred_at") or e["at"]) <= until:
                    continue
                if e["version"] == 1 and collection == "mandates":
                    new_mandates.add(item_id)
                if e["state_before"] not in (None, e["state_after"]):
                    changes[(collection, item_id, e["state_before"], e["state_after"])] += 1
                    if collection == "tasks" and e["state_after"] == "done":
                        done.add(item_id)
    listed = [(c["collection"], c["id"], c["from"], c["to"]) for c in report["changes"]["state_changes"]]
    assert Counter(listed) == changes  # an item may go the same way twice (a task returned and submitted again)
    assert {m["id"] for m in report["changes"]["new_mandates"]} == new_mandates
    assert {t["id"] for t in report["changes"]["tasks_done"]} == done
    assert ("mandates", story["made"]["id"], "adopted", "in_progress") in changes and story["done"]["id"] in done
    assert story["made"]["id"] in new_mandates
    overdue = {(o["id"], o["deadline"]) for o in report["changes"]["overdue"]}
    assert (story["late"]["id"], "due") in overdue
    assert report["conclusions"][0]["made"] == [{"collection": "mandates", "id": story["made"]["id"],
                                                 "title": story["made"]["reference"] + ": " + story["made"]["title"],
                                                 "state": "in_progress"}]


def test_the_reports_figures_equal_the_dashboard_and_the_items_as_of_the_meetings_day(own, story):
    hana = own.client("hana")
    report = report_of(hana, story["this"]["id"]).json()
    as_of = {"as_of": report["as_of"]}
    board = hana.get("/dashboard", params=as_of).json()
    assert report["figures"]["mandates_by_state"] == {s: n for s, n in board["counts"]["mandates"].items()
                                                      if n and s not in ("fulfilled", "withdrawn")}
    assert report["figures"]["support_requests"] == sum(board["counts"]["support-requests"].values())
    progress = {m["id"]: {k: m[k] for k in ("tasks", "open", "done", "percent_done")} for m in board["mandates"]}
    assert {m["id"]: m["progress"] for m in report["mandates"] if m["in_force"]} == progress
    for row in report["mandates"]:
        assert hana.get(f"/mandates/{row['id']}", params=as_of).json()["state"] == row["state"]
    board_overdue = {(d["item_id"], d["kind"]) for d in board["overdue"] if d["collection"] in ("mandates", "tasks")}
    assert {(o["id"], o["deadline"]) for o in report["changes"]["overdue"]} == board_overdue


def test_markdown_html_and_word_carry_the_same_headings_and_figures(own, story):
    hana = own.client("hana")
    meeting_id = story["this"]["id"]
    figures = report_of(hana, meeting_id).json()["figures"]
    markdown = report_of(hana, meeting_id, "md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    html = report_of(hana, meeting_id, "html")
    assert html.headers["content-type"].startswith("text/html")
    assert report_of(hana, meeting_id, "html").text == hana.get(f"/meetings/{meeting_id}/report").text  # default
    word = report_of(hana, meeting_id, "docx")
    assert word.headers["content-type"] == DOCX
    assert word.headers["content-disposition"].startswith("attachment;") and ".docx" in word.headers[
        "content-disposition"]
    document = docx.Document(BytesIO(word.content))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == list(HEADINGS)
    assert [p.text for p in document.paragraphs if p.style.name == "Title"] == [
        f"{TITLE}: 6th Committee of Ministers"]
    summary = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert summary == [["Figure", "Number"]] + [[label, str(figures[key])] for label, key in FIGURES]
    for heading in HEADINGS:
        assert f" {heading}\n" in markdown.text and f">{heading.replace(chr(39), '&#39;')}</h" in html.text
    for label, key in FIGURES:
        assert f"| {label} | {figures[key]} |" in markdown.text
        assert f"<td>{label}</td><td>{figures[key]}</td>" in html.text


def test_a_liaison_reads_only_their_partys_counts_and_nothing_of_a_meeting_without_their_party(own, story):
    alba, milan = own.client("alba"), own.client("milan")
    report = report_of(alba, story["this"]["id"]).json()
    assert report["mandates"] == [] and report["changes"]["state_changes"] == []
    assert {row["party"] for row in report["support"]["rows"]} == {"AL"}
    hidden = milan.get(f"/meetings/{story['this']['id']}/report", params={"format": "docx"})
    random_id = str(uuid4())
    absent = milan.get(f"/meetings/{random_id}/report", params={"format": "docx"})
    assert_problem(hidden, 404)
    assert_problem(absent, 404)
    assert hidden.text.replace(story["this"]["id"], "ID") == absent.text.replace(random_id, "ID")
    assert_problem(own.client("sara").get(f"/meetings/{story['this']['id']}/report", params={"format": "pdf"}),
                   422)


def test_the_command_line_writes_the_report_an_auditor_reads(own, story, tmp_path):
    meeting_id = story["this"]["id"]
    printed = own.cli("report", meeting_id, "--format", "md")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == report_of(own.client("audrey"), meeting_id, "md").text
    written = own.cli("report", meeting_id, "--format", "docx", "--output", str(tmp_path / "report.docx"))
    assert written.returncode == 0, written.stderr
    assert docx.Document(str(tmp_path / "report.docx")).paragraphs[0].text == f"{TITLE}: 6th Committee of Ministers"
    unknown = own.cli("report", str(uuid4()), "--format", "md")
    assert unknown.returncode == 1 and "no meeting with id" in unknown.stderr
    assert own.cli("report", "--help").returncode == 0
