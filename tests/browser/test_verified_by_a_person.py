"""What an outside verifier found using the pages as each demo user would (issue 12): each test is a defect seen
in a live `secretariat serve` after `secretariat demo`, kept so that it stays fixed."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from secretariat.demo import demo_id
from tests.browser.conftest import LIVE_OVERDUE, serving_demo, sign_in
from tests.browser.quality import PHONE
from tests.browser.test_every_page import UUID, check, tab_to, visit


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """A demo of its own: these tests add a comment and a user, which other modules do not expect."""
    with serving_demo(tmp_path_factory.mktemp("verified")) as url:
        yield url


def _wait_for_reminder(server_url: str, username: str, item_id: str, seconds: float = 30) -> None:
    """The server's scheduler raises the overdue task's reminder soon after it starts."""
    with httpx.Client(base_url=server_url, timeout=10) as client:
        token = client.post("/auth/token", data={"username": username, "password": username}).json()["access_token"]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            mine = client.get("/reminders", params={"mine": "true"}, headers={"Authorization": f"Bearer {token}"})
            if any(r["item_id"] == item_id for r in mine.json()["items"]):
                return
            time.sleep(0.5)
    raise AssertionError(f"no reminder was raised on {item_id} within {seconds} s")


def test_an_overdue_task_with_a_reminder_raised_shows_no_reminder_bookkeeping_among_its_details(page, server_url):
    task = str(LIVE_OVERDUE)  # due three days ago, recorded live: the scheduler raises its reminder
    _wait_for_reminder(server_url, "sara", task)
    sign_in(page, "sara")
    visit(page, f"/ui/tasks/{task}")
    labels = page.locator(".fields dt").all_inner_texts()
    assert "Reminders" not in [label.strip().capitalize() for label in labels], labels
    details = page.locator(".fields").inner_text()
    assert not UUID.search(details) and not re.search(r"addressed_to|acknowledged_at|rung:", details), details
    check(page, "overdue-task-with-a-reminder")


def test_the_forms_to_create_an_item_give_hints_in_words_not_field_names(page):
    sign_in(page, "sara")
    for collection in ("tasks", "mandates", "meetings", "support-requests"):
        visit(page, f"/ui/{collection}/new")
        hints = " ".join(page.locator("main form").all_inner_texts())
        assert not re.findall(r"\b[a-z]+_[a-z_]+\b", hints), (collection, re.findall(r"\b[a-z]+_[a-z_]+\b", hints))


WIDE_TABLES = """() => [...document.querySelectorAll('main table')].filter(t => getComputedStyle(t).display === 'table'
    && t.getBoundingClientRect().width > window.innerWidth).map(t => t.className)"""


def test_the_admin_and_audit_lists_become_cards_on_a_phone_not_tables_scrolled_sideways(page):
    page.set_viewport_size(PHONE)
    for username, paths in (("admin", ["/ui/admin/users", "/ui/admin/closures"]),
                            ("hana", ["/ui/admin/deliveries"]),
                            ("audrey", ["/ui/audit"])):
        sign_in(page, username)
        for path in paths:
            visit(page, path)
            assert page.evaluate(WIDE_TABLES) == [], f"{path}: a table wider than the phone"
        page.context.clear_cookies()


OVERLAPPING_LABELS = """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
    const boxes = [...svg.querySelectorAll('tspan')].filter(t => t.getClientRects().length)
        .map(t => t.getBoundingClientRect());
    return boxes.flatMap((a, i) => boxes.slice(i + 1).filter(b => Math.abs(a.top - b.top) < 2
        && a.left < b.right - 1 && b.left < a.right - 1).map(() => svg.getAttribute('aria-labelledby')));
})"""


def test_the_months_under_the_dashboards_charts_do_not_run_into_each_other_on_a_phone(page):
    page.set_viewport_size(PHONE)
    sign_in(page, "sara")
    visit(page, "/ui/dashboard")
    assert page.locator("svg.chart tspan").count() > 0
    assert page.evaluate(OVERLAPPING_LABELS) == []


def test_a_comment_with_a_mention_and_a_new_user_are_entered_with_the_keyboard_alone(page):
    sign_in(page, "sara")
    visit(page, f"/ui/tasks/{demo_id('task', 'ewg-meeting')}")
    tab_to(page, "text")
    page.keyboard.type("Typed without a mouse, @hana please look")
    tab_to(page, "Comment")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#comments").get_by_text("Typed without a mouse").count() == 1
    page.context.clear_cookies()

    sign_in(page, "admin")
    visit(page, "/ui/admin/users")
    tab_to(page, "username")
    page.keyboard.type("keyboard.user")
    tab_to(page, "password")
    page.keyboard.type("keyboard.user")
    tab_to(page, "checkbox:yes")  # the first role's box
    page.keyboard.press("Space")
    tab_to(page, "Add the user")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "can sign in now" in page.locator("main").inner_text()
    page.context.clear_cookies()
    sign_in(page, "keyboard.user")
    assert page.url.endswith("/") or "/ui/" in page.url
    assert page.locator("form[action='/logout'], button", has_text="Sign out").count() >= 1


def test_the_diff_between_two_versions_reads_in_words_states_events_and_no_reminder_bookkeeping(page, server_url):
    sign_in(page, "audrey")
    visit(page, f"/ui/support-requests/{demo_id('request', 'rs-mass-event')}/diff?from=1&to=3")
    state = page.locator("table.diff tr", has=page.locator("th", has_text="State"))
    assert state.locator("td").all_inner_texts() == ["Submitted", "Screening"]
    assert page.locator(".timeline .type").all_inner_texts() == ["Screening started", "Duplication check recorded"]
    task = str(LIVE_OVERDUE)
    _wait_for_reminder(server_url, "sara", task)
    visit(page, f"/ui/tasks/{task}/diff?from=1")
    changed = page.locator("main").inner_text()  # version 1 to the reminder: no field changed, so maybe no table
    assert "Reminders" not in changed and not UUID.search(changed), changed
    check(page, "diff-of-an-overdue-task")


def test_the_printable_meeting_report_gives_its_instants_with_the_time_zone(page):
    sign_in(page, "alba")
    visit(page, f"/ui/meetings/{demo_id('meeting', 'com-2015-decision')}/report")
    text = page.locator("main").inner_text()
    instants = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d\S*(?: [A-Z]{3,4})?", text)
    assert instants and all(re.search(r" [A-Z]{3,4}$", i) for i in instants), instants


def test_the_audit_log_names_events_and_kinds_of_item_in_words(page):
    sign_in(page, "audrey")
    visit(page, "/ui/audit?after=50")
    log = page.locator("table.audit-log tbody").inner_text()
    assert "SupportRequest.Submitted" not in log and "support_request" not in log, log[:500]
    assert "Submitted" in page.locator("table.audit-log td[data-label='Event']").all_inner_texts()
