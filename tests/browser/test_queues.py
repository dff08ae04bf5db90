"""Each role signs in and finds exactly what waits on them, and takes the next step from the queue.

The module serves its own demo (not the session's), so every queue starts as the demo seeds it, whatever
the other browser tests did; the tests below run in this order, each taking steps the next ones count on.
"""

from __future__ import annotations

import re
from typing import Iterator
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import expect

from domain.mandate import Mandate
from secretariat.demo import HOST_MOU, SUPPORT, demo_id
from tests.browser.conftest import LIVE_OVERDUE, serving_demo, sign_in
from tests.browser.quality import PHONE, assert_accessible, horizontal_overflow, save_screenshots


def task(key: str) -> str:
    return f"/ui/tasks/{demo_id('task', key)}"


def request(key: str) -> str:
    return f"/ui/support-requests/{demo_id('request', key)}"


def mandate(reference: str) -> str:
    return f"/ui/mandates/{Mandate.id_for(reference)}"


# What the demo leaves waiting on each user, read from its story (secretariat/demo_history.jsonl), with the browser
# tests' one live task (tests/browser/conftest.py: LIVE_OVERDUE).
WAITING_IN_THE_DEMO = {
    "sara": {task("agreements"), task("activities"), task("com-meeting"), task("experts"), task("annual-report"),
             f"/ui/tasks/{LIVE_OVERDUE}", request("al-exchange"), request("rs-planning"), mandate(SUPPORT),
             f"/ui/meetings/{demo_id('meeting', 'com-next')}"},
    "hana": {request("rs-mass-event"), mandate(HOST_MOU)},
    "erik": {task("ewg-meeting")},
    "alba": set(), "milan": set(), "audrey": set(), "admin": set(),
}


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving_demo(tmp_path_factory.mktemp("queues")) as url:
        yield url


@pytest.fixture
def someone_else(browser, server_url):
    """A page in a browser profile of its own, for a second user signed in beside the first."""
    contexts = []

    def new_page():
        contexts.append(browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900}))
        contexts[-1].set_default_timeout(10_000)
        return contexts[-1].new_page()

    yield new_page
    for context in contexts:
        context.close()


def queued(page) -> list[str]:
    """The items on the queue page, as the paths their links open."""
    return [a.get_attribute("href") for a in page.locator("table.queue tbody tr td:first-child a").all()]


def row_of(page, path: str):
    return page.locator("table.queue tbody tr").filter(has=page.locator(f"a[href='{path}']"))


def nav_count(page):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(r"^Waiting on me"))


def open_queue(page, user: str) -> None:
    sign_in(page, user)
    nav_count(page).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Waiting on me")


def api(server_url: str, user: str) -> httpx.Client:
    token = httpx.post(f"{server_url}/auth/token", data={"username": user, "password": user}).json()["access_token"]
    return httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {token}",
                                                      "Prefer": "wait-for-projection"})


@pytest.mark.parametrize("user", list(WAITING_IN_THE_DEMO))
def test_each_role_signs_in_and_the_queue_shows_exactly_what_waits_on_them(page, user):
    sign_in(page, user)
    expected = WAITING_IN_THE_DEMO[user]
    expect(nav_count(page)).to_have_text(f"Waiting on me ({len(expected)})")
    overview_block = page.get_by_role("region", name=re.compile("^Waiting on me"))
    expect(overview_block.locator("table.queue tbody tr")).to_have_count(len(expected))
    if user == "sara":  # the overview's own axe findings (its count tiles) are the display branch's to fix
        save_screenshots(page, "overview-queue-sara")

    nav_count(page).click()

    assert set(queued(page)) == expected and len(queued(page)) == len(expected)
    if not expected:
        expect(page.get_by_text("Nothing waits on you.")).to_be_visible()
    assert_accessible(page)
    save_screenshots(page, f"queue-{user}")
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page) == 0  # each waiting item a card, its steps wrapping


def test_hana_approves_a_request_from_her_queue_and_it_moves_on_to_the_secretariat(page, someone_else):
    open_queue(page, "hana")
    row_of(page, request("rs-mass-event")).get_by_role("button", name=re.compile("^Approve")).click()

    assert page.url.endswith(f"{request('rs-mass-event')}?done=approve")
    page.goto("/ui/queue")
    assert queued(page) == [mandate(HOST_MOU)]
    expect(nav_count(page)).to_have_text("Waiting on me (1)")

    sara = someone_else()
    open_queue(sara, "sara")
    expect(row_of(sara, request("rs-mass-event")).get_by_role("button", name=re.compile("^Start delivery"))) \
        .to_be_visible()


def test_erik_approves_the_review_waiting_for_the_ewg_and_his_queue_is_empty(page):
    open_queue(page, "erik")
    row_of(page, task("ewg-meeting")).get_by_role("button", name=re.compile("^Approve")).click()

    assert page.url.endswith(f"{task('ewg-meeting')}?done=approve")
    page.goto("/ui/queue")
    expect(page.get_by_text("Nothing waits on you.")).to_be_visible()
    expect(nav_count(page)).to_have_text("Waiting on me (0)")


def test_a_party_finds_the_secretariats_question_in_its_queue_and_answers_it_from_there(page, someone_else):
    open_queue(page, "sara")
    row_of(page, request("al-exchange")).get_by_role("button", name=re.compile("^Start screening")).click()
    page.get_by_text(re.compile(r"^Other actions")).click()
    question = page.locator("form[action$='/request_info']")
    question.get_by_label("Reason").fill("Which officers, and for how long?")
    question.get_by_role("button", name="Request info").click()
    assert page.url.endswith("?done=request_info")

    alba = someone_else()
    open_queue(alba, "alba")
    assert queued(alba) == [request("al-exchange")]
    row_of(alba, request("al-exchange")).get_by_role("link", name=re.compile("^Provide info")).click()
    answer = alba.locator("form[action$='/provide_info']")
    expect(answer).to_be_visible()  # the next step is the open form, first on the page
    answer.get_by_label("Info").fill("Four officers, for two weeks in March.")
    answer.get_by_role("button", name="Provide info").click()
    assert alba.url.endswith("?done=provide_info")
    alba.goto("/ui/queue")
    expect(alba.get_by_text("Nothing waits on you.")).to_be_visible()

    milan = someone_else()
    open_queue(milan, "milan")  # another Party's question is never theirs to see
    assert queued(milan) == []


def test_unassigned_work_waits_with_assign_to_me_and_the_assignee_is_chosen_from_who_may_take_it(page, someone_else):
    sign_in(page, "erik")
    page.goto("/ui/tasks/new")
    assignee = page.get_by_label("Assignee")
    expect(assignee.locator("option")).to_have_text(["— none —", "erik", "hana", "sara"])
    page.get_by_label("Title").fill("Translate the annual report")
    page.get_by_role("button", name="Create").click()
    created = urlparse(page.url).path

    page.goto("/ui/queue")
    expect(row_of(page, created).get_by_role("button", name=re.compile("^Assign to me"))).to_be_visible()

    sara = someone_else()
    open_queue(sara, "sara")
    row = row_of(sara, created)
    expect(row.get_by_role("button", name=re.compile("^Start"))).to_be_visible()  # nobody has it: the Secretariat
    row.get_by_role("button", name=re.compile("^Assign to me")).click()

    assert sara.url.endswith("/ui/queue")
    expect(row_of(sara, created).get_by_role("button", name=re.compile("^Assign to me"))).to_have_count(0)
    expect(row_of(sara, created).get_by_role("button", name=re.compile("^Start"))).to_be_visible()
    page.goto("/ui/queue")
    expect(row_of(page, created)).to_have_count(0)  # sara's now: no longer waiting on the EWG
    page.goto(created)
    expect(page.locator("dl.fields > div").filter(has_text="Assignee")).to_contain_text("sara")


def test_an_auditor_who_sends_assign_to_me_anyway_is_refused_and_nothing_changes(page, server_url):
    unassigned = api(server_url, "erik").post("/tasks", json={"title": "Index the archive"}).json()
    sign_in(page, "audrey")
    refused = page.request.post(f"/ui/queue/tasks/{unassigned['id']}/take", form={"expected_version": "1"})
    assert refused.status == 403 and "needs one of" in refused.text()
    assert api(server_url, "audrey").get(f"/tasks/{unassigned['id']}").json()["version"] == 1


def test_the_item_page_offers_the_next_step_first_and_says_in_words_what_approve_waits_for(page, server_url):
    submitted = api(server_url, "milan").post("/support-requests", json={
        "party": "RS", "kind": "logistical", "activity": "mass_event", "operational_involvement": False,
        "description": "Coordination before the regional basketball final."}).json()
    api(server_url, "sara").post(f"/support-requests/{submitted['id']}/start_screening")
    sign_in(page, "hana")
    page.goto(f"/ui/support-requests/{submitted['id']}")

    actions = page.get_by_role("region", name="What you can do")
    first = actions.locator("form").first
    expect(first).to_have_attribute("action", re.compile(r"/record_duplication_check$"))
    expect(actions.locator("form[action$='/reject']")).to_be_hidden()  # folded under "Other actions"
    expect(actions.locator("form[action$='/approve']")).to_have_count(0)
    expect(actions.locator(".blocked-action")).to_have_text(
        "Approve: record the duplication check first (the duplication check is not recorded yet)")
    assert_accessible(page)
    save_screenshots(page, "item-actions-blocked")

    first.get_by_label("Duplicates found").select_option("no")
    first.get_by_role("button", name="Record duplication check").click()

    expect(actions.locator("form").first).to_have_attribute("action", re.compile(r"/approve$"))
    expect(actions.locator(".blocked-action")).to_have_count(0)
    page.goto("/ui/queue")
    assert f"/ui/support-requests/{submitted['id']}" in queued(page)
