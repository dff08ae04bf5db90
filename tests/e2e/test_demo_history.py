"""After `secretariat demo`, the past is real: the items and the dashboard as of a past instant show what was
in force then, and an auditor's timeline spans years. On the session's server (its other tests write now, not
in 2012 or 2016, so these instants see the demo's history alone)."""

from __future__ import annotations

from datetime import datetime

from domain.mandate import Mandate
from secretariat.demo import ESTABLISHMENT, HOST_MOU, SUPPORT, demo_id

IN_2012 = {"as_of": "2012-01-01T00:00:00Z"}
IN_2016 = {"as_of": "2016-01-01T00:00:00Z"}


def test_the_items_as_of_2012_are_what_was_in_force_then(as_user):
    audrey = as_user("audrey")

    def then(collection, item_id):
        return audrey.get(f"/{collection}/{item_id}", params=IN_2012)

    assert then("mandates", Mandate.id_for(ESTABLISHMENT)).json()["state"] == "fulfilled"
    memorandum = then("mandates", Mandate.id_for(HOST_MOU)).json()
    assert memorandum["state"] == "in_progress"  # reported in March 2012
    assert then("mandates", Mandate.id_for(SUPPORT)).status_code == 404  # decided on 5 May 2015
    agreements = then("tasks", demo_id("task", "agreements")).json()
    assert (agreements["state"], agreements["due"]) == ("in_progress", "2012-06-30")
    assert then("tasks", demo_id("task", "office-setup")).json()["state"] == "done"
    assert then("support-requests", demo_id("request", "rs-exchange-2015")).status_code == 404
    assert then("meetings", demo_id("meeting", "com-2010-sofia")).json()["state"] == "concluded"


def test_the_dashboard_as_of_2016_counts_the_mandates_and_requests_as_they_stood(as_user):
    """Needs the as-of dashboard by when things happened (occurred_at, branch i13-effective)."""
    board = as_user("hana").get("/dashboard", params=IN_2016).json()
    standing = {collection: {state: n for state, n in counts.items() if n}
                for collection, counts in board["counts"].items()}
    assert standing["mandates"] == {"fulfilled": 1, "reported": 1, "in_progress": 1}
    assert standing["support-requests"] == {"closed": 1, "approved": 1, "needs_info": 1}
    assert {m["reference"]: m["state"] for m in board["mandates"]} == {HOST_MOU: "reported", SUPPORT: "in_progress"}


def test_an_auditors_timeline_of_the_agreements_catalogue_spans_years(as_user):
    events = as_user("audrey").get(f"/tasks/{demo_id('task', 'agreements')}/history").json()["events"]
    years = [datetime.fromisoformat(event.get("occurred_at") or event["at"]).year for event in events]
    assert years[0] == 2009 and years[-1] >= 2022
    assert years == sorted(years)
    reasons = [event["reason"] for event in events if event["type"].endswith("Rescheduled")]
    assert "Three Contracting Parties have not yet sent their agreements." in reasons
