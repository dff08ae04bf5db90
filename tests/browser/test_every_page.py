"""Every page each demo user reaches from the navigation, and an item of each collection they read: accessible
(axe-core finds nothing serious), no horizontal scroll on a 390 px phone, nothing raw shown (no snake_case
state, no UUID where a title belongs), and screenshots saved for a person to look at."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page

from domain.application import WORKFLOWS
from domain.mandate import Mandate
from secretariat.demo import SUPPORT, USERS, demo_id
from tests.browser.conftest import sign_in
from tests.browser.quality import PHONE, assert_accessible, horizontal_overflow, save_screenshots

# The richest demo item of each collection (a long history, links, deadlines), when the user reads it.
RICH_ITEMS = {"tasks": demo_id("task", "ewg-meeting"), "support-requests": demo_id("request", "rs-planning"),
              "meetings": demo_id("meeting", "com-2015-decision")}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RAW_STATES = sorted({s for w in WORKFLOWS.values() for s in w.states if "_" in s})


def humane_problems(page: Page) -> list[str]:
    """What a person should not have to read on the page: internal ids and snake_case states."""
    text = page.locator("main").inner_text()
    problems = [f"an id shown: {m}" for m in UUID.findall(text)]
    return problems + [f"a raw state shown: {s}" for s in RAW_STATES if re.search(rf"\b{s}\b", text)]


def check(page: Page, name: str, *, names_ids: bool = False) -> None:
    """`names_ids`: the page may show an id (a 404 names the id asked for)."""
    assert_accessible(page)
    assert names_ids or humane_problems(page) == [], f"{page.url}: {humane_problems(page)}"
    original = page.viewport_size
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) == 0, f"{page.url} scrolls sideways at 390 px"
    assert_accessible(page)  # the phone layout (cards, wrapped navigation) is checked too
    page.set_viewport_size(original)
    save_screenshots(page, name)


def visit(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"


def item_of(page: Page, collection: str) -> str | None:
    """The rich demo item if this user reads it, else the first item of the list on the page."""
    rich = RICH_ITEMS.get(collection)
    if rich and f"/ui/{collection}/{rich}" in page.locator("main a").evaluate_all("as => as.map(a => a.pathname)"):
        return f"/ui/{collection}/{rich}"
    first = page.locator(f"main a[href^='/ui/{collection}/']:not([href$='/new'])").first
    return first.get_attribute("href") if first.count() else None


def test_the_sign_in_page_its_refusal_and_an_error_page_are_accessible_and_fit_a_phone(page):
    visit(page, "/login")
    check(page, "sign-in")
    page.get_by_label("Username").fill("sara")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."
    check(page, "sign-in-refused")
    sign_in(page, "sara")
    assert page.goto("/ui/tasks/00000000-0000-4000-8000-000000000000").status == 404
    check(page, "not-found", names_ids=True)


@pytest.mark.parametrize("username", [user for user, _roles, _party in USERS])
def test_every_page_a_user_reaches_is_accessible_humane_and_fits_a_phone(page, username):
    sign_in(page, username)
    nav = page.get_by_role("navigation", name="Main").get_by_role("link")
    paths = nav.evaluate_all("links => links.map(a => a.pathname + a.search)")
    assert paths and paths[0] == "/"
    for path in paths:
        visit(page, path)
        check(page, f"{username}{path.replace('/ui/', '-').replace('/', '-') if path != '/' else '-overview'}")
        collection = path.removeprefix("/ui/")
        if collection not in WORKFLOWS:
            continue
        if page.get_by_role("link", name=f"New {WORKFLOWS[collection].title.lower()}", exact=True).count():
            visit(page, f"/ui/{collection}/new")
            check(page, f"{username}-{collection}-new")
            visit(page, path)
        item = item_of(page, collection)
        assert item is not None, f"{username} is shown no {collection} to open"  # the demo has some of each
        visit(page, item)
        check(page, f"{username}-{collection}-item")
        lineage = page.locator("main a[href$='/lineage']")
        if lineage.count():
            visit(page, lineage.first.get_attribute("href"))
            check(page, f"{username}-{collection}-lineage")


FOCUS_SHOWN = """() => { const e = document.activeElement, s = getComputedStyle(e);
    return e !== document.body && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""
# (A date input's calendar button has the focus inside the input: the input shows it, by :focus-within.)


def tab_to(page: Page, name: str, most: int = 60) -> None:
    """Press Tab until the control named `name` has the focus, each stop showing where the focus is."""
    for _ in range(most):
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_SHOWN), f"no visible focus on {page.evaluate('document.activeElement.outerHTML')}"
        if name in page.evaluate("[document.activeElement.name || document.activeElement.textContent.trim(), "
                                 "document.activeElement.type + ':' + document.activeElement.value]"):
            return
    raise AssertionError(f"{name!r} is not reached with the Tab key on {page.url}")


def test_signing_in_filtering_a_list_and_recording_a_task_take_the_keyboard_alone(page):
    page.goto("/login")
    # The username field takes the focus on arrival; under load that can come a moment after the load event.
    page.wait_for_function("document.activeElement && document.activeElement.name === 'username'")
    page.keyboard.type("sara")
    page.keyboard.press("Tab")
    page.keyboard.type("sara")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/"

    visit(page, "/ui/tasks")
    tab_to(page, "checkbox:blocked")  # the state filter: a checkbox per state, several may be ticked
    page.keyboard.press("Space")
    tab_to(page, "Filter")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert parse_qs(urlsplit(page.url).query)["state"] == ["blocked"]
    assert set(page.locator("table.items .state").all_inner_texts()) == {"Blocked"}

    visit(page, "/ui/tasks/new")
    tab_to(page, "title")
    page.keyboard.type("Translate the annual report, typed without a mouse")
    tab_to(page, "Create")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Translate the annual report, typed without a mouse"
    assert page.locator(".item-head .state").inner_text() == "Open"


def test_an_item_with_a_file_and_a_long_history_entry_fits_a_phone(page, server_url):
    """A task of its own (the demo's items stay as the other tests expect them), with a file attached."""
    with httpx.Client(base_url=server_url, timeout=30) as client:
        token = client.post("/auth/token", data={"username": "sara", "password": "sara"}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        task = client.post("/tasks", headers=auth, json={
            "title": "Circulate the minutes", "partners": ["SELEC", "Europol", "Interpol", "Frontex", "CEPOL"],
            "description": "Minutes of the Expert Working Group meeting, to every Party's contact point."}).json()
        attached = client.post(f"/tasks/{task['id']}/attachments", headers=auth,
                               files={"file": ("Minutes of the Expert Working Group meeting, Ljubljana.txt",
                                               b"Minutes\n", "text/plain")})
        assert attached.status_code == 201, attached.text
    sign_in(page, "sara")
    visit(page, f"/ui/tasks/{task['id']}")
    assert page.locator("#attachments table tbody tr").count() == 1
    check(page, "task-with-a-file")


def test_a_mandate_names_its_tasks_by_title_with_their_real_states_and_its_history_too(page):
    sign_in(page, "audrey")
    visit(page, f"/ui/mandates/{Mandate.id_for(SUPPORT)}")
    linked = page.locator(".fields > div", has=page.locator("dt", has_text="Linked tasks")).locator("li")
    assert sorted(linked.all_inner_texts()) == ["Annual report to the Committee of Ministers Open",
                                                "Catalogue the Convention's activities In progress",
                                                "Prepare the Expert Working Group meeting In review"]
    linked_in_history = page.locator(".timeline > li").filter(has_text="Task linked").locator("dd")
    assert "Prepare the Expert Working Group meeting In review" in linked_in_history.all_inner_texts()
    assert re.fullmatch(r"created \d{4}-\d\d-\d\d \d\d:\d\d CES?T", page.locator(".meta span", has_text="created").inner_text())


def test_a_support_request_is_titled_by_its_party_kind_and_description(page):
    sign_in(page, "hana")
    visit(page, f"/ui/support-requests/{demo_id('request', 'rs-mass-event')}")
    assert page.locator("h1").inner_text() == ("RS – logistical support: Coordination meeting before a regional "
                                               "football tournament")
    deadlines = page.get_by_role("table", name="Deadlines")
    assert deadlines.locator("tbody td:first-child").all_inner_texts() == ["Decision due", "Needed by"]
