"""Comments and attachments on a task's page, in a real browser: a comment's @mention reaches the mentioned
user's inbox on their overview, and a file attached on the page (chosen or dropped) downloads byte for byte."""

from __future__ import annotations

import os

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.quality import assert_accessible, horizontal_overflow, save_screenshots


def new_task(server_url: str, title: str) -> str:
    """A task of sara's, created over the API, so the demo's items stay as the other page tests expect them."""
    with httpx.Client(base_url=server_url, timeout=30) as client:
        token = client.post("/auth/token", data={"username": "erik", "password": "erik"}).json()["access_token"]
        created = client.post("/tasks", headers={"Authorization": f"Bearer {token}"},
                              json={"title": title, "assignee": "sara", "due": "2099-06-01"})
        assert created.status_code == 201, created.text
        return created.json()["id"]


def test_a_comment_with_a_mention_reaches_the_mentioned_users_inbox(page, server_url):
    task = new_task(server_url, "Draft the EWG agenda for the spring meeting")
    sign_in(page, "sara")
    page.goto(f"/ui/tasks/{task}")
    comments = page.get_by_role("region", name="Comments")
    expect(comments).to_contain_text("No comments yet.")

    comments.get_by_label("Add a comment").fill("The **first draft** is attached; @hana please look. cc @milan")
    comments.get_by_role("button", name="Comment").click()

    comments = page.get_by_role("region", name="Comments")
    expect(comments.locator(".comment-body strong")).to_have_text("first draft")
    expect(comments).to_contain_text("notified @hana")
    expect(comments.get_by_role("status")).to_contain_text("Not notified: @milan")  # a liaison reads no task
    # In the history: the comment, then the reminder that tells hana of it.
    expect(page.locator(".timeline > li").nth(-2)).to_contain_text("Comment added")
    expect(page.locator(".timeline > li").last).to_contain_text("Mentioned in a comment")
    expect(page.locator(".timeline > li").last).to_contain_text("hana")
    assert_accessible(page)
    assert horizontal_overflow(page) == 0
    save_screenshots(page, "task-with-a-comment")

    page.context.clear_cookies()
    sign_in(page, "hana")
    inbox = page.get_by_role("region", name="Reminders for you")
    expect(inbox.get_by_role("link", name="Draft the EWG agenda for the spring meeting")).to_be_visible()
    expect(inbox).to_contain_text("Mentioned in a comment")
    inbox.get_by_role("link", name="Draft the EWG agenda for the spring meeting").click()
    expect(page.get_by_role("region", name="Comments")).to_contain_text("@hana please look")


def test_an_attachment_chosen_on_a_task_page_downloads_byte_for_byte(page, server_url, tmp_path):
    task = new_task(server_url, "File the minutes of the Committee")
    content = b"%PDF-1.7\n" + os.urandom(150_000)
    minutes = tmp_path / "Minutes of the CoM.pdf"
    minutes.write_bytes(content)
    sign_in(page, "sara")
    page.goto(f"/ui/tasks/{task}")
    files = page.get_by_role("region", name="Attachments")
    expect(files).to_contain_text("No files attached.")
    expect(files).to_contain_text("Or drop a file anywhere on this section.")  # attach.js ran

    files.get_by_label("Attach a file").set_input_files(minutes)
    files.get_by_role("button", name="Attach", exact=True).click()

    link = page.get_by_role("region", name="Attachments").get_by_role("link", name="Minutes of the CoM.pdf")
    expect(link).to_be_visible()
    assert_accessible(page)
    save_screenshots(page, "task-with-an-attachment")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "Minutes of the CoM.pdf"
    assert open(download.value.path(), "rb").read() == content


def test_a_file_dropped_on_the_attachments_section_is_attached_and_downloads_byte_for_byte(page, server_url):
    task = new_task(server_url, "Collect the operation plans")
    content = b"%PDF-1.7\n" + os.urandom(40_000)
    sign_in(page, "sara")
    page.goto(f"/ui/tasks/{task}")
    # What a browser hands a page when a file is dropped on it: a DataTransfer holding the file.
    dropped = page.evaluate_handle("""bytes => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], "Operation plan.pdf", {type: "application/pdf"}));
        return transfer;
    }""", list(content))
    section = page.locator("#attachments")
    section.dispatch_event("dragenter", {"dataTransfer": dropped})
    expect(section).to_have_class("card attachments droppable dragging")
    with page.expect_navigation():
        section.dispatch_event("drop", {"dataTransfer": dropped})

    link = page.get_by_role("region", name="Attachments").get_by_role("link", name="Operation plan.pdf")
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    assert open(download.value.path(), "rb").read() == content


def test_a_blank_comment_is_explained_on_the_page_and_an_auditor_is_offered_no_comment_form(page, server_url):
    task = new_task(server_url, "Summarise the Parties' replies")
    sign_in(page, "sara")
    page.goto(f"/ui/tasks/{task}")
    page.get_by_label("Add a comment").fill("   ")
    page.get_by_role("button", name="Comment").click()
    expect(page.get_by_role("alert")).to_contain_text("the comment is empty: write something")
    expect(page.get_by_role("region", name="Comments")).to_contain_text("No comments yet.")

    page.context.clear_cookies()
    sign_in(page, "audrey")
    page.goto(f"/ui/tasks/{task}")
    expect(page.get_by_role("region", name="Comments")).to_be_visible()
    expect(page.get_by_label("Add a comment")).to_have_count(0)
