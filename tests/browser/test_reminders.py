"""The reminders inbox on the overview page: what the scheduler raised, acknowledged with one click."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.browser.conftest import LIVE_OVERDUE, LIVE_OVERDUE_TITLE, sign_in


def reminders_region(page):
    return page.get_by_role("region", name="Reminders for you")


def test_sara_sees_her_overdue_task_among_her_reminders_and_acknowledges_it(page):
    sign_in(page, "sara")
    # The served scheduler ticks once at start; reload until its reminder has reached the view.
    deadline = time.monotonic() + 15
    while reminders_region(page).count() == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
        page.reload()
    region = reminders_region(page)
    row = region.get_by_role("row").filter(has_text=LIVE_OVERDUE_TITLE)
    expect(row).to_contain_text("Overdue")
    before = int(region.locator(".total").inner_text())

    row.get_by_role("button", name="Acknowledge").click()

    assert page.url.endswith("/")
    expect(reminders_region(page).get_by_role("row").filter(
        has_text=LIVE_OVERDUE_TITLE)).to_have_count(0)
    if before > 1:
        expect(reminders_region(page).locator(".total")).to_have_text(str(before - 1))
    # Both the reminder and its acknowledgement are in the task's history, by whom they were made.
    page.goto(f"/ui/tasks/{LIVE_OVERDUE}")
    timeline = page.locator(".timeline > li")
    expect(timeline.filter(has_text="Reminder raised")).to_contain_text("by scheduler")
    expect(timeline.filter(has_text="Reminder acknowledged")).to_contain_text("by sara")
