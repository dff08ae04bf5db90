"""Who sees what: Party liaisons their own Party's requests only; auditors everything, and no forms."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from secretariat.demo import demo_id, story
from tests.browser.conftest import sign_in

WAITING_ON_ME = re.compile(r"^Waiting on me \(\d+\)$")  # the queue's entry; its count moves as tests act

RS_REQUESTS = [key for key, values in story("support-requests") if values["party"] == "RS"]
AL_REQUESTS = [key for key, values in story("support-requests") if values["party"] == "AL"]


def test_alba_sees_only_albanian_requests_and_gets_no_page_for_a_serbian_one(page):
    sign_in(page, "alba")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Overview", WAITING_ON_ME, "Support requests", "Meetings"])  # the meetings Albania takes part in
    page.goto("/ui/support-requests")
    rows = page.locator("table tbody tr")
    assert rows.count() >= len(AL_REQUESTS)
    party_column = page.locator("thead th").all_inner_texts().index("PARTY") + 1
    assert set(rows.locator(f"td:nth-child({party_column})").all_inner_texts()) == {"AL"}
    expect(page.locator("main")).not_to_contain_text("football tournament")

    for key in RS_REQUESTS:
        response = page.goto(f"/ui/support-requests/{demo_id('request', key)}")
        assert response.status == 404
        expect(page.get_by_role("alert")).to_contain_text("no support request with id")
        expect(page.locator("main")).not_to_contain_text("RS")
        answer = page.context.request.post(f"/ui/support-requests/{demo_id('request', key)}/withdraw",
                                           form={"reason": "not mine"})
        assert answer.status == 404
    assert page.goto("/ui/tasks").status == 403
    assert page.goto("/ui/mandates").status == 403


def test_milan_filters_his_requests_by_state_and_gets_no_page_for_an_albanian_one(page):
    sign_in(page, "milan")
    page.goto("/ui/support-requests?state=in_delivery")
    expect(page.locator("table tbody tr")).to_have_count(1)
    assert page.goto(f"/ui/support-requests/{demo_id('request', 'al-exchange')}").status == 404


def test_audrey_the_auditor_reads_everything_but_gets_no_action_forms(page):
    sign_in(page, "audrey")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Overview", WAITING_ON_ME, "Mandates", "Tasks", "Support requests", "Meetings", "Audit"])
    page.goto("/ui/support-requests")
    parties = set(page.locator("table tbody td:nth-child(2)").all_inner_texts())
    assert {"AL", "RS"} <= parties
    expect(page.get_by_role("link", name="New support request")).to_have_count(0)
    for collection, item_id in (("tasks", demo_id("task", "experts")),
                                ("support-requests", demo_id("request", "rs-planning"))):
        page.goto(f"/ui/{collection}/{item_id}")
        expect(page.locator("main form[method=post]")).to_have_count(0)
        expect(page.get_by_role("region", name="What you can do")).to_contain_text("Nothing you may do")
        expect(page.locator(".timeline > li").first).to_contain_text("v1")
    # An auditor replays the past: the request as it was at version 2, with no forms.
    page.get_by_role("link", name="v2", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("version 2 of")
    expect(page.locator(".item-head .state")).to_have_text("Screening")
    assert page.goto("/ui/tasks/new").status == 403


def test_erik_of_the_ewg_gets_the_same_page_for_a_request_as_for_an_id_that_names_none(page):
    sign_in(page, "erik")
    absent = "00000000-0000-4000-8000-000000000000"
    for key in AL_REQUESTS[:1] + RS_REQUESTS[:1]:
        request_id = str(demo_id("request", key))
        for query in ("", "?version=1", "?version=99"):
            shown = []
            for item_id in (request_id, absent):
                response = page.goto(f"/ui/support-requests/{item_id}{query}")
                assert response.status == 404, (key, query, response.status)
                expect(page.get_by_role("alert")).to_contain_text(f"no support request with id {item_id}")
                shown.append(page.locator("body").inner_html().replace(item_id, "ID"))
            assert shown[0] == shown[1], (key, query)


def test_alba_gets_the_same_page_for_a_serbian_requests_version_as_for_an_id_that_names_none(page):
    sign_in(page, "alba")
    absent = "00000000-0000-4000-8000-000000000000"
    request_id = str(demo_id("request", RS_REQUESTS[0]))
    shown = []
    for item_id in (request_id, absent):
        assert page.goto(f"/ui/support-requests/{item_id}?version=99").status == 404
        expect(page.get_by_role("alert")).not_to_contain_text("has no version")
        shown.append(page.locator("body").inner_html().replace(item_id, "ID"))
    assert shown[0] == shown[1]
