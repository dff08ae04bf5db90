"""Charts people look at: the overview's and the dashboard's, a mandate's progress, an item's workflow diagram.

The demo's history spans 2008 to today; this month it has one task approved (the website), one deadline three days
late (the agreements catalogue; the browser tests add a live one, LIVE_OVERDUE), three tasks of the Support mandate open.
"""

from __future__ import annotations

from domain.mandate import Mandate
from secretariat.demo import SUPPORT, demo_id
from tests.browser.conftest import sign_in
from tests.browser.quality import (AXE_TAGS, FAILING_IMPACTS, accessibility_violations, assert_accessible,
                                   horizontal_overflow, save_screenshots)

ACTIVITIES = demo_id("task", "activities")
PHONE = {"width": 390, "height": 844}


def figure(page, title: str):
    return page.locator("figure.chart-figure").filter(has=page.get_by_role("heading", name=title, exact=True))


def last_row_value(page, title: str) -> str:
    """The last month's figure, from the chart's table of numbers."""
    chart = figure(page, title)
    chart.locator("summary").click()
    return chart.locator("tbody tr").last.locator("td").first.inner_text()


def assert_accessible_within(page, selector: str) -> None:
    """axe-core's check of one part of a page: the overview's charts, on a page whose count tiles are another
    branch's (i12-display's) to make accessible."""
    accessibility_violations(page)  # loads axe-core into the page
    result = page.evaluate("([selector, tags]) => axe.run({include: [[selector]]}, {runOnly: {type: 'tag', "
                           "values: tags}})", [selector, AXE_TAGS])
    assert page.locator(selector).count() == 1
    assert [v["id"] for v in result["violations"] if v["impact"] in FAILING_IMPACTS] == []


def test_the_overview_charts_this_months_done_task_and_late_deadline_accessibly(page):
    sign_in(page, "sara")
    charts = page.get_by_role("region", name="The last 6 months")
    assert charts.get_by_role("img", name="Tasks done per month").count() == 1
    assert charts.get_by_role("img", name="Overdue deadlines").count() == 1
    assert last_row_value(page, "Tasks done per month") == "1"
    # The demo's agreements catalogue and the browser tests' live task (conftest.py: LIVE_OVERDUE), both 3 days late.
    assert last_row_value(page, "Overdue deadlines") == "2"
    assert figure(page, "Tasks done per month").locator("tbody tr").count() == 6
    assert_accessible_within(page, "section.charts")
    page.set_viewport_size(PHONE)
    # The overview's own tables are i12-display's to fit; the charts must fit on their own.
    box = page.locator("section.charts").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.locator("section.charts").evaluate("e => e.scrollWidth - e.clientWidth") == 0
    save_screenshots(page, "overview with charts")


def test_the_dashboard_shows_every_chart_for_staff_and_fits_a_phone(page):
    sign_in(page, "sara")
    page.get_by_role("link", name="All charts").click()
    assert page.url.endswith("/ui/dashboard")
    for title in ("Tasks done per month", "Overdue deadlines", "Open tasks by state", "Open support requests by state",
                  "Tasks: time in each state"):
        assert page.get_by_role("img", name=title).count() == 1, title
    # The demo's six tasks not done (two open, two in progress, one blocked, one in review) and the live one, open.
    open_tasks = figure(page, "Open tasks by state")
    open_tasks.locator("summary").click()
    assert open_tasks.locator("thead th").all_text_contents() == ["Month", "Open", "In progress", "Blocked",
                                                                "In review"]
    assert open_tasks.locator("tbody tr").last.locator("td").all_inner_texts() == ["3", "2", "1", "1"]
    assert page.locator("figure.chart-figure").count() >= 8
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) == 0
    assert_accessible(page)
    save_screenshots(page, "dashboard")


def test_the_dashboard_takes_a_longer_span_and_refuses_a_silly_one(page):
    sign_in(page, "hana")
    page.goto("/ui/dashboard")
    page.get_by_label("Months shown").select_option("36")
    page.get_by_role("button", name="Show").click()
    assert page.url.endswith("/ui/dashboard?months=36")
    assert figure(page, "Tasks done per month").locator("tbody tr").count() == 36
    response = page.goto("/ui/dashboard?months=10000")
    assert response.status == 422
    assert "months must be a whole number from 1 to 36" in page.content()


def test_a_party_liaison_sees_only_their_partys_overdue_chart(page):
    sign_in(page, "alba")
    page.goto("/ui/dashboard")
    assert page.get_by_role("img", name="Overdue deadlines").count() == 1
    assert page.get_by_role("img", name="Open tasks by state").count() == 0
    assert page.get_by_role("img", name="Tasks done per month").count() == 0
    assert last_row_value(page, "Overdue deadlines") == "0"  # the late deadline is a task's, not Albania's
    assert_accessible(page)


def test_the_mandates_list_and_page_show_progress_bars(page):
    sign_in(page, "hana")
    page.goto("/ui/mandates")
    bar = page.get_by_role("img", name="Support Contracting Parties", exact=False).first
    assert bar.get_attribute("aria-label").endswith(": 0% done")  # three tasks, none done yet
    assert page.get_by_role("columnheader", name="Progress").count() == 1
    memorandum = page.get_by_role("row").filter(has_text="Memorandum of Understanding")
    assert memorandum.get_by_text("none yet").count() == 1  # no tasks: no percentage
    assert_accessible(page)
    save_screenshots(page, "mandates with progress")
    page.goto(f"/ui/mandates/{Mandate.id_for(SUPPORT)}")
    progress = page.get_by_role("region", name="Progress of its tasks")
    assert progress.get_by_role("img").get_attribute("aria-label").endswith(": 0% done")
    assert "0 done, 3 open" in progress.inner_text()
    assert_accessible(page)
    save_screenshots(page, "mandate with progress")


def test_a_task_page_draws_its_workflow_with_the_current_state_filled(page):
    sign_in(page, "sara")
    page.goto(f"/ui/tasks/{ACTIVITIES}")
    diagram = page.get_by_role("img", name="Task workflow: now In progress")
    assert diagram.count() == 1
    assert page.locator("svg.diagram rect[fill='#1d4f91']").count() == 1  # the one state filled
    assert page.locator("svg.diagram text", has_text="In progress (now)").count() == 1
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) == 0
    save_screenshots(page, "task with workflow diagram")
