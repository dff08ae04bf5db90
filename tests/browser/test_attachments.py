"""Attaching a file from an item's page and downloading it again, in a real browser."""

from __future__ import annotations

import os

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def new_serbian_request(server_url: str) -> str:
    """A request of milan's own, over the API, so the demo's items stay as the other page tests expect them."""
    with httpx.Client(base_url=server_url, timeout=30) as client:
        token = client.post("/auth/token", data={"username": "milan", "password": "milan"}).json()["access_token"]
        created = client.post("/support-requests", headers={"Authorization": f"Bearer {token}"}, json={
            "party": "RS", "kind": "logistical", "activity": "mass_event", "needed_by": "2099-06-01",
            "description": "Support for policing a football final", "operational_involvement": False})
        assert created.status_code == 201, created.text
        return created.json()["id"]


def test_a_liaison_attaches_a_file_to_their_request_and_downloads_it_byte_for_byte(page, server_url, tmp_path):
    request = new_serbian_request(server_url)
    content = b"%PDF-1.7\n" + os.urandom(200_000)
    plan = tmp_path / "Plan — Beograd.pdf"
    plan.write_bytes(content)
    sign_in(page, "milan")
    page.goto(f"/ui/support-requests/{request}")
    files = page.get_by_role("region", name="Attachments")
    expect(files).to_contain_text("No files attached.")

    files.get_by_label("Attach a file").set_input_files(plan)
    files.get_by_role("button", name="Attach", exact=True).click()

    link = page.get_by_role("region", name="Attachments").get_by_role("link", name="Plan — Beograd.pdf")
    expect(link).to_be_visible()
    expect(page.locator(".timeline > li").last).to_contain_text("Attachment added")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "Plan — Beograd.pdf"
    assert open(download.value.path(), "rb").read() == content


def test_a_refused_file_is_explained_on_the_page_and_an_auditor_is_offered_no_form(page, server_url, tmp_path):
    request = new_serbian_request(server_url)
    tool = tmp_path / "tool.exe"
    tool.write_bytes(b"MZ\x90\x00" + os.urandom(100))
    sign_in(page, "milan")
    page.goto(f"/ui/support-requests/{request}")
    page.get_by_label("Attach a file").set_input_files(tool)
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("files of this kind may not be attached")

    page.context.clear_cookies()
    sign_in(page, "audrey")
    page.goto(f"/ui/support-requests/{request}")
    expect(page.get_by_role("region", name="Attachments")).to_be_visible()
    expect(page.get_by_label("Attach a file")).to_have_count(0)
