"""Searching, filtering, sorting and downloading lists in a real browser."""

from __future__ import annotations

import csv
import io

from typing import Callable, Iterator

import httpx
import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.quality import assert_accessible, save_screenshots


@pytest.fixture
def new_task(server_url: str) -> Iterator[Callable[..., dict]]:
    """Makes tasks of erik's over the API, and cancels them afterwards, so that the demo's counts, charts and
    queues stay as the other page tests expect them."""
    client = httpx.Client(base_url=server_url, timeout=30)
    token = client.post("/auth/token", data={"username": "erik", "password": "erik"}).json()["access_token"]
    client.headers.update({"Authorization": f"Bearer {token}", "Prefer": "wait-for-projection"})
    made: list[str] = []

    def make(**body: str) -> dict:
        created = client.post("/tasks", json={"assignee": "sara", **body})
        assert created.status_code == 201, created.text
        made.append(created.json()["id"])
        return created.json()

    yield make
    for task_id in made:
        cancelled = client.post(f"/tasks/{task_id}/cancel", json={"reason": "Made by a page test"})
        assert cancelled.status_code == 200, cancelled.text
    client.close()


def test_the_search_box_finds_an_item_by_a_word_of_its_description(page, server_url, new_task):
    task = new_task(title="Liaison officers handbook",
                    description="Collect the contact points of the quokka network in every Party")
    sign_in(page, "sara")
    page.get_by_role("search").get_by_label("Search everything").fill("quokka")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"{server_url}/ui/search?q=quokka")
    expect(page.get_by_role("status")).to_have_text("1 item with “quokka”")
    result = page.locator(".search-results li")
    expect(result).to_have_count(1)
    expect(result.locator("mark")).to_have_text("quokka")
    assert_accessible(page)
    save_screenshots(page, "search")
    result.get_by_role("link", name="Liaison officers handbook").click()
    expect(page).to_have_url(f"{server_url}/ui/tasks/{task['id']}")


def test_a_filtered_list_downloads_as_csv_and_xlsx_with_the_filtered_rows(page, new_task):
    for n, state_title in enumerate(("wombat first", "wombat second")):
        new_task(title=f"Count the {state_title}", description="Wombat census", due=f"2031-0{n + 1}-15")
    new_task(title="Unrelated census", description="Other animals")
    sign_in(page, "sara")
    page.goto("/ui/tasks")
    page.get_by_label("Words").fill("wombat")
    page.get_by_role("group", name="State").get_by_label("Open").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("status")).to_have_text("2 tasks match the filters")
    # Sorting by the due column keeps the filters, and the URL can be shared.
    page.get_by_role("columnheader", name="Due").get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Due")).to_have_attribute("aria-sort", "ascending")
    assert "q=wombat" in page.url and "state=open" in page.url and "sort=due" in page.url
    titles = page.locator("table.items tbody tr td:first-child")
    expect(titles).to_have_text(["Count the wombat first", "Count the wombat second"])
    assert_accessible(page)
    save_screenshots(page, "tasks list filtered")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV").click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    with open(csv_download.value.path(), encoding="utf-8-sig") as file:
        text = file.read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["Title"], r["State"]) for r in rows] == [("Count the wombat first", "Open"),
                                                       ("Count the wombat second", "Open")]

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Spreadsheet (.xlsx)").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    with open(xlsx_download.value.path(), "rb") as file:
        sheet = openpyxl.load_workbook(io.BytesIO(file.read()), read_only=True).worksheets[0]
    header, *values = list(sheet.iter_rows(values_only=True))
    assert [row[header.index("Title")] for row in values] == ["Count the wombat first", "Count the wombat second"]


def test_an_invalid_id_in_a_list_filter_is_a_422_page_naming_it(page):
    sign_in(page, "sara")
    response = page.goto("/ui/tasks?mandate_id=not-a-uuid")
    assert response.status == 422
    expect(page.get_by_role("alert")).to_contain_text("mandate_id")
    assert_accessible(page)


def test_the_overviews_figures_download_as_a_spreadsheet(page):
    sign_in(page, "sara")
    with page.expect_download() as download:
        page.get_by_role("link", name="Spreadsheet (.xlsx)").click()
    with open(download.value.path(), "rb") as file:
        sheet = openpyxl.load_workbook(io.BytesIO(file.read()), read_only=True).worksheets[0]
    header, *values = list(sheet.iter_rows(values_only=True))
    counts = {(row[1], row[3]): row[4] for row in values if row[0] == "Count"}
    assert counts, values
    assert header[:5] == ("Section", "Collection", "Item", "State or deadline", "Number")
    assert counts[("Tasks", "Open")] >= 1
