"""The auditor's pages in the browser: the decision log, the chain verified, the checkpoint and the export
bundle downloaded (and checked as the real thing), an item compared across versions and seen as it was on a
day; and none of it changes anything."""

from __future__ import annotations

import json
import zipfile

from playwright.sync_api import expect

from audit.bundle_check import verify_bundle
from audit.signing import checkpoint_problem
from secretariat.demo import demo_id
from tests.browser.conftest import sign_in
from tests.browser.looking import look_at

RS_REQUEST = demo_id("request", "rs-planning")



def test_the_auditor_pages_through_the_log_and_filters_it_by_who(page):
    sign_in(page, "audrey")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    rows = page.locator("table.audit-log tbody tr")
    expect(rows).to_have_count(50)
    first_page_last = int(rows.last.locator("td").first.inner_text())
    look_at(page, "audit log")
    page.get_by_role("link", name="Next page").click()
    assert int(rows.first.locator("td").first.inner_text()) > first_page_last
    page.get_by_label("Who").fill("milan")
    page.get_by_role("button", name="Show").click()
    expect(rows.first).to_be_visible()
    assert set(rows.locator("td:nth-child(3)").all_inner_texts()) == {"milan"}
    assert "after=" not in page.url and "actor=milan" in page.url  # the API's filter names: a shareable URL


def test_the_auditor_filters_the_log_by_event_and_by_day(page):
    sign_in(page, "audrey")
    page.goto("/ui/audit")
    page.get_by_label("Event").select_option("SupportRequest.Approved")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.audit-log tbody tr")
    expect(rows.first).to_be_visible()
    assert set(rows.locator("td:nth-child(4)").all_inner_texts()) == {"Approved"}  # the event in words, as the history says it
    approvals = rows.count()
    today = page.locator("table.audit-log time").first.inner_text()[:10]  # in the Secretariat's time zone
    page.get_by_label("From (day)").fill(today)
    page.get_by_label("To (day, included)").fill(today)
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(approvals)  # the demo was recorded today
    page.get_by_label("To (day, included)").fill("2001-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("until is before since")


def test_a_wrong_filter_is_named_not_a_failure(page):
    sign_in(page, "audrey")
    response = page.goto("/ui/audit?item_id=not-an-id")
    assert response.status == 422
    expect(page.get_by_role("alert")).to_contain_text("item_id 'not-an-id' is not an id")
    assert page.goto("/ui/audit?since=yesterday").status == 422
    assert page.goto("/ui/audit?after=-1").status == 422


def test_the_auditor_verifies_the_chain_and_downloads_a_checkpoint_and_the_export_bundle(page, tmp_path):
    sign_in(page, "audrey")
    page.goto("/ui/audit")
    page.get_by_role("link", name="Verify the chain").click()
    expect(page.get_by_role("status")).to_contain_text("The audit chain holds.")
    events_verified = int(page.locator(".verify-result .alert-detail").inner_text().split()[0])
    assert events_verified > 50
    look_at(page, "audit verify")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download a signed checkpoint").click()
    checkpoint = json.loads(download.value.path().read_text())
    assert checkpoint_problem(checkpoint) is None
    assert checkpoint["length"] >= events_verified

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the export bundle").click()
    assert download.value.suggested_filename.endswith(".zip")
    bundle = tmp_path / download.value.suggested_filename
    download.value.save_as(bundle)
    with zipfile.ZipFile(bundle) as opened:
        assert {"events.jsonl", "chain.jsonl", "checkpoint.json", "public_key.pem", "README.md"} <= set(
            opened.namelist())
    checked = verify_bundle(bundle)
    assert checked["ok"], checked
    assert checked["full"] and checked["events"] >= events_verified
    assert checked["public_key"] == checkpoint["public_key"]  # the same audit key signs both


def test_only_auditing_roles_get_the_audit_pages(browser, server_url):
    for username in ("sara", "erik", "alba", "admin"):
        page = browser.new_page(base_url=server_url)
        sign_in(page, username)
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit")).to_have_count(0)
        for path in ("/ui/audit", "/ui/audit/verify", "/ui/audit/checkpoint", "/ui/audit/export"):
            assert page.goto(path).status == 403, (username, path)
        page.close()


def test_the_auditor_compares_two_versions_of_a_request_and_sees_it_as_it_was(page):
    sign_in(page, "audrey")
    page.goto(f"/ui/support-requests/{RS_REQUEST}")
    section = page.get_by_role("region", name="Through time")
    expect(section.locator("form[method=get]")).to_have_count(2)
    section.get_by_label("From version").select_option("1")
    section.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1 to")
    state = page.locator("table.diff tbody tr", has_text="State")
    expect(state.locator("del")).to_have_text("Submitted")  # the state in words, not its name in the workflow
    expect(page.locator(".timeline > li").first).to_contain_text("v2")
    look_at(page, "item diff")

    page.goto(f"/ui/support-requests/{RS_REQUEST}/as-of?as_of=2000-01-01")
    expect(page.get_by_role("alert")).to_contain_text("did not exist")
    page.goto(f"/ui/support-requests/{RS_REQUEST}")
    page.get_by_role("region", name="Through time").get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("as it was on")
    expect(page.get_by_role("status")).to_contain_text("Nothing can be done to the past")
    look_at(page, "item as of")


def test_no_audit_page_offers_a_form_that_changes_anything(page):
    sign_in(page, "audrey")
    for path in ("/ui/audit", "/ui/audit/verify", f"/ui/support-requests/{RS_REQUEST}/diff?from=1&to=2",
                 f"/ui/support-requests/{RS_REQUEST}/as-of?as_of=2030-01-01", f"/ui/support-requests/{RS_REQUEST}"):
        assert page.goto(path).status == 200, path
        expect(page.locator("main form[method=post]")).to_have_count(0)


def test_another_partys_request_has_no_diff_nor_past_for_a_liaison(page):
    sign_in(page, "alba")
    unknown = "00000000-0000-4000-8000-000000000000"
    for suffix in ("diff?from=1&to=2", "as-of?as_of=2030-01-01"):
        theirs, missing = (page.context.request.get(f"/ui/support-requests/{i}/{suffix}")
                           for i in (RS_REQUEST, unknown))
        assert theirs.status == missing.status == 404
        assert theirs.text().replace(str(RS_REQUEST), "ID") == missing.text().replace(unknown, "ID")
