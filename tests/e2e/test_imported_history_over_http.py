"""An item whose history was imported today, read over HTTP as it happened: `?as_of`, its history (JSON and
page, both times where they differ), the dashboard as of an instant and the charts.

The import writes through the application service (`create`/`act` with `occurred_at`) into the store of a
running server, as the import command does; the server's views follow the log.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from secretariat.bootstrap import build_application
from secretariat.settings import Settings
from tests.e2e.conftest import Server, assert_item, running_server
from tests.factories import HANA, SARA, mandate_values

HAPPENED = {"record": datetime(2015, 5, 5, 10, 0, tzinfo=timezone.utc),
            "start": datetime(2015, 6, 1, 10, 0, tzinfo=timezone.utc),
            "report": datetime(2016, 2, 1, 10, 0, tzinfo=timezone.utc),
            "fulfil": datetime(2016, 3, 1, 10, 0, tzinfo=timezone.utc)}


NEW_YEAR_2016, MID_2016 = "2016-01-01T00:00:00Z", "2016-06-01T00:00:00Z"
BEFORE: dict[str, dict[str, dict]] = {}  # store -> instant -> hana's as-of dashboard before the import


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def imported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """A running server whose store holds a mandate imported today with its 2015-2016 history; its id."""
    workdir: Path = tmp_path_factory.mktemp(f"imported-{request.param}")
    with running_server(request.param, workdir) as srv:
        # The server serves the demo, whose own history spans those years: what the import adds is read against this.
        BEFORE[request.param] = {when: srv.client("hana").get("/dashboard", params={"as_of": when}).json()
                                 for when in (NEW_YEAR_2016, MID_2016)}
        service = build_application(Settings(database_url=srv.env["SECRETARIAT_DATABASE_URL"],
                                             secret_key=srv.secret_key))
        try:
            item = service.create("mandates", SARA, mandate_values(reference="CoM-2015-05-05/9"),
                                  occurred_at=HAPPENED["record"]).item
            service.act("mandates", item.id, "start", SARA, {}, occurred_at=HAPPENED["start"])
            service.act("mandates", item.id, "report", SARA, {"summary": "Done"}, occurred_at=HAPPENED["report"])
            service.act("mandates", item.id, "fulfil", HANA, {}, occurred_at=HAPPENED["fulfil"])
        finally:
            service.close()
        deadline = time.monotonic() + 60
        while httpx.get(f"{srv.base_url}/health", timeout=10).json().get("projection_lag") != 0:
            assert time.monotonic() < deadline, "the views did not catch up with the import"
            time.sleep(0.1)
        yield srv, str(item.id)


def test_the_item_as_of_2015_is_as_it_stood_then(imported):
    srv, mandate = imported
    sara = srv.client("sara")
    assert_item(sara.get(f"/mandates/{mandate}", params={"as_of": "2015-07-01T00:00:00Z"}), state="in_progress",
                version=2, allowed=[])
    assert sara.get(f"/mandates/{mandate}", params={"as_of": "2015-05-01T00:00:00Z"}).status_code == 404


def test_the_history_json_carries_when_each_event_happened_beside_when_it_was_recorded(imported):
    srv, mandate = imported
    events = srv.client("sara").get(f"/mandates/{mandate}/history").json()["events"]
    assert [datetime.fromisoformat(e["occurred_at"]) for e in events] == list(HAPPENED.values())
    assert all(datetime.fromisoformat(e["at"]).year == datetime.now(timezone.utc).year for e in events)


def test_the_history_page_shows_both_times(imported):
    srv, mandate = imported
    with httpx.Client(base_url=srv.base_url, timeout=30) as page:
        page.post("/login", data={"username": "sara", "password": "sara"})
        html = page.get(f"/ui/mandates/{mandate}").text
    assert "2015-05-05 12:00 CEST" in html and "2016-03-01 11:00 CET" in html
    assert html.count("(recorded ") >= 4


def test_the_dashboard_as_of_2016_counts_it_in_progress(imported, request):
    srv, mandate = imported
    before = BEFORE[request.node.callspec.params["imported"]]
    board = srv.client("hana").get("/dashboard", params={"as_of": NEW_YEAR_2016}).json()
    was = before[NEW_YEAR_2016]
    assert board["counts"]["mandates"]["in_progress"] == was["counts"]["mandates"]["in_progress"] + 1
    added = [m for m in board["mandates"] if m["id"] not in {w["id"] for w in was["mandates"]}]
    assert [(m["id"], m["state"]) for m in added] == [(mandate, "in_progress")]
    # By mid-2016 its stay in progress (245 days) has ended: one more sample, in days, not the seconds the import
    # took. The demo's stays (none shorter than a day) are the others.
    stays = srv.client("hana").get("/dashboard", params={"as_of": MID_2016}).json()["time_in_state"]
    had = before[MID_2016]["time_in_state"].get("mandates", {}).get("in_progress", {"samples": 0})
    assert stays["mandates"]["in_progress"]["samples"] == had["samples"] + 1
    assert stays["mandates"]["in_progress"]["median_seconds"] > 86400
