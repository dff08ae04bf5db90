"""A workflow defined in the tests alone (tests/plug_in_workflow.py), registered before the app is built, is
served over real HTTP like the others: routes, list filters, the items view, dashboard counts, the audit log,
the scheduler's reminders and the pages. Nothing outside its module and the registry line names it.

The server is a process of its own (the `secretariat serve` command, with the workflow registered first), so
the registration cannot reach any other test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterator
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest

from domain.registry import WORKFLOW_ITEMS
from tests.e2e.conftest import (START_TIMEOUT, TICK_SECONDS, Server, _free_port, _server_env, assert_item,
                                assert_problem, fresh_store)
from tests.plug_in_workflow import SERVE_WITH_IT, WORKFLOW

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = WORKFLOW.collection
REMINDER_WAIT_SECONDS = 2 * TICK_SECONDS + 5


class ServerWithSiteVisits(Server):
    """`secretariat serve` in a process that registered the site visits before building the app."""

    def start(self) -> None:
        demo = self.cli("demo", timeout=120)
        assert demo.returncode == 0, demo.stderr
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.env["SECRETARIAT_BASE_URL"] = self.base_url
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([sys.executable, "-c", SERVE_WITH_IT, str(ROOT), "serve", "--host",
                                             "127.0.0.1", "--port", str(port)], env=self.env, cwd=self.workdir,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"the server with site visits did not start:\n{self.log()}", pytrace=False)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp(f"plug-in-{request.param}")
    with fresh_store(request.param, workdir) as (url, schema):
        srv = ServerWithSiteVisits(store=request.param, base_url="", env=_server_env(url, uuid4().hex + uuid4().hex),
                                   workdir=workdir, log_path=workdir / "server.log", secret_key="", schema=schema)
        try:
            srv.start()
            yield srv
            assert srv.server_errors == [] and "Traceback" not in srv.log(), srv.server_errors or srv.log()
        finally:
            srv.stop()


def test_the_workflow_is_known_only_where_it_was_registered():
    # This process never registered it: the registration lives in the server's process alone.
    assert COLLECTION not in WORKFLOW_ITEMS.collections


def test_a_plugged_in_workflow_is_served_like_the_others(site_server):
    sara, hana, audrey, alba = (site_server.client(u) for u in ("sara", "hana", "audrey", "alba"))
    today = datetime.now(ZoneInfo("Europe/Ljubljana")).date()
    three_days_ago = (today - timedelta(days=3)).isoformat()

    # Create: the table's checks, and what the workflow derives on creation.
    assert_problem(sara.post(f"/{COLLECTION}", json={"party": "AL", "title": "No region"}), 422, "region")
    overdue = assert_item(sara.post(f"/{COLLECTION}", json={
        "party": "AL", "region": "Shkodër", "title": "Hani i Hotit", "visit_on": three_days_ago}), 201,
        state="planned")
    later = assert_item(sara.post(f"/{COLLECTION}", json={
        "party": "RS", "region": "Vojvodina", "title": "Horgoš", "visit_on": (today + timedelta(days=30)).isoformat()}),
        201, state="planned")
    assert date.fromisoformat(later["report_due"]) > today + timedelta(days=30)

    # Actions, each its own route, with the grants of the table.
    assert_problem(sara.post(f"/{COLLECTION}/{later['id']}/call_off", json={"reason": "No"}), 403, "head")
    assert_item(sara.post(f"/{COLLECTION}/{later['id']}/visit"), state="visited")
    assert_item(sara.post(f"/{COLLECTION}/{later['id']}/file_report", json={"report": "All in order"}),
                state="reported")
    assert sara.get(f"/{COLLECTION}/{later['id']}").json()["state"] == "reported"

    # Lists, read from the items view, with the declared filters: `region` has no column of its own.
    def listed(client: httpx.Client, **params: str) -> list[str]:
        response = client.get(f"/{COLLECTION}", params=params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert listed(sara) == [later["id"], overdue["id"]]
    assert listed(sara, region="Shkodër") == [overdue["id"]]
    assert listed(sara, region="Vojvodina", state="reported") == [later["id"]]
    assert listed(sara, region="Vojvodina", state="planned") == []
    assert listed(sara, party="RS") == [later["id"]]
    assert_problem(sara.get(f"/{COLLECTION}", params={"colour": "red"}), 422, "colour")

    # A Party liaison reads their Party's visits only; another Party's is answered as a missing one.
    assert listed(alba) == [overdue["id"]]
    assert listed(alba, region="Vojvodina") == []
    random_id = str(uuid4())
    hidden, missing = alba.get(f"/{COLLECTION}/{later['id']}"), alba.get(f"/{COLLECTION}/{random_id}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text.replace(later["id"], "{ID}") == missing.text.replace(random_id, "{ID}")

    # Dashboard counts, for those who read the whole collection only.
    counts = hana.get("/dashboard").json()["counts"]
    assert counts[COLLECTION] == {"planned": 1, "visited": 0, "reported": 1, "called_off": 0}
    assert COLLECTION not in alba.get("/dashboard").json()["counts"]

    # The audit log: its kind, and the Party that keeps it confidential.
    events = audrey.get("/audit/events", params={"item_id": later["id"]}).json()["events"]
    assert [e["type"] for e in events] == ["SiteVisit.Planned", "SiteVisit.Visited", "SiteVisit.ReportFiled"]
    assert {(e["kind"], e["collection"], e["party"]) for e in events} == {("site_visit", COLLECTION, "RS")}

    # The scheduler raises a reminder on its deadline, titled by the workflow.
    reminder = _reminder_for(sara, overdue["id"])
    assert (reminder["collection"], reminder["deadline"], reminder["due"]) == (COLLECTION, "visit", three_days_ago)
    assert reminder["addressed_to"] == ["role:secretariat"] and reminder["title"] == "Hani i Hotit"

    # `/workflows` and its diagram.
    documents = {w["name"]: w for w in sara.get("/workflows").json()["workflows"]}
    assert documents["site_visit"]["collection"] == COLLECTION
    assert "planned --> visited: visit" in sara.get(f"/workflows/{COLLECTION}.mmd").text

    # Its pages, for a browser signed in through the form.
    pages = httpx.Client(base_url=site_server.base_url, timeout=30)
    assert pages.post("/login", data={"username": "sara", "password": "sara", "next": "/"}).status_code == 303
    listing = pages.get(f"/ui/{COLLECTION}")
    assert listing.status_code == 200 and "Hani i Hotit" in listing.text and "Horgoš" in listing.text
    page = pages.get(f"/ui/{COLLECTION}/{overdue['id']}")
    assert page.status_code == 200 and "Shkodër" in page.text and "Site visit" in page.text
    assert "Site visits" in pages.get("/").text  # the dashboard page counts them too


def _reminder_for(client: httpx.Client, item_id: str) -> dict:
    deadline = time.monotonic() + REMINDER_WAIT_SECONDS
    while True:
        response = client.get("/reminders", params={"mine": "true", "limit": 500})
        assert response.status_code == 200, response.text
        found = [r for r in response.json()["items"] if r["item_id"] == item_id]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "no reminder was raised on the overdue visit"
        time.sleep(0.1)
