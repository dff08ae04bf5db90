"""Working items through their pages: actions from the workflow table, refusals, history."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from domain.actor import Actor
from domain.application import WORKFLOWS
from domain.mandate import Mandate
from secretariat.demo import SUPPORT, demo_id
from tests.browser.conftest import sign_in

WAITING_ON_ME = re.compile(r"^Waiting on me \(\d+\)$")  # the queue's entry; its count moves as tests act

COM_MEETING = demo_id("task", "com-meeting")
ACTIVITIES = demo_id("task", "activities")
AGREEMENTS = demo_id("task", "agreements")
RS_MASS_EVENT = demo_id("request", "rs-mass-event")
SCREENSHOT = "/tmp/secretariat-item-page.png"


def state_of(page):
    return page.locator(".item-head .state")


def history_entries(page):
    return page.locator(".timeline > li")


def show_other_actions(page):
    """Open the folded forms: the page shows the next step first and folds the rest."""
    page.get_by_text(re.compile(r"^Other actions")).click()


def test_sara_opens_her_task_clicks_start_and_sees_it_in_progress_with_the_event_in_the_history(page):
    sign_in(page, "sara")
    page.get_by_role("region", name="Assigned to me").get_by_role(
        "link", name="Prepare the next Committee of Ministers meeting").click()
    expect(state_of(page)).to_have_text("Open")
    events_before = history_entries(page).count()

    page.get_by_role("button", name="Start", exact=True).click()

    assert page.url.endswith(f"/ui/tasks/{COM_MEETING}?done=start")
    expect(state_of(page)).to_have_text("In progress")
    expect(page.get_by_role("status")).to_contain_text("Start: recorded as version 2")
    expect(history_entries(page)).to_have_count(events_before + 1)
    last = history_entries(page).last
    expect(last).to_contain_text("Started")
    expect(last).to_contain_text("by sara")
    expect(last.locator(".transition")).to_have_text("Open → In progress")
    # The forms now offered are those the table allows in the new state, and start is gone.
    expect(page.get_by_role("button", name="Start", exact=True)).to_have_count(0)
    show_other_actions(page)
    expect(page.get_by_role("button", name="Block", exact=True)).to_have_count(1)


def test_a_block_without_a_reason_shows_the_error_and_leaves_the_state_unchanged(page):
    sign_in(page, "sara")
    page.goto(f"/ui/tasks/{ACTIVITIES}")
    expect(state_of(page)).to_have_text("In progress")
    events_before = history_entries(page).count()
    show_other_actions(page)
    block = page.locator("form[action$='/block']")
    expect(block.get_by_label("Reason")).to_have_attribute("required", "")
    block.evaluate("form => { form.noValidate = true }")  # as a browser that does not check would send it

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        block.get_by_role("button", name="Block").click()

    assert answer.value.status == 422
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Block was refused")
    expect(alert).to_contain_text("block requires a reason")
    expect(alert).to_contain_text("Nothing was changed")
    expect(state_of(page)).to_have_text("In progress")
    expect(history_entries(page)).to_have_count(events_before)
    expect(page.locator("form[action$='/block'] .field-error")).to_have_text("block requires a reason")

    # With a reason the same form is taken.
    page.locator("form[action$='/block']").get_by_label("Reason").fill("Waiting for the partners' lists")
    page.locator("form[action$='/block']").get_by_role("button", name="Block").click()
    expect(state_of(page)).to_have_text("Blocked")
    expect(history_entries(page).last).to_contain_text("Reason: Waiting for the partners' lists")


def test_a_form_from_a_stale_page_is_refused_with_a_clear_error(context):
    first, second = context.new_page(), context.new_page()
    sign_in(first, "hana")
    for page in (first, second):
        page.goto(f"/ui/tasks/{AGREEMENTS}")
    version = int(first.locator("input[name=expected_version]").first.get_attribute("value"))
    show_other_actions(first)
    first.locator("form[action$='/assign']").get_by_label("Assignee").select_option("sara")
    first.locator("form[action$='/assign']").get_by_role("button", name="Assign").click()
    expect(first.get_by_role("status")).to_contain_text(f"recorded as version {version + 1}")

    show_other_actions(second)
    second.locator("form[action$='/block']").get_by_label("Reason").fill("Too late")
    with second.expect_response(lambda r: r.request.method == "POST") as answer:
        second.locator("form[action$='/block']").get_by_role("button", name="Block").click()

    assert answer.value.status == 412
    expect(second.get_by_role("alert")).to_contain_text(f"the item is at version {version + 1}, not {version}")
    expect(state_of(second)).to_have_text("In progress")


def test_hana_gets_exactly_the_forms_the_workflow_table_allows_with_inputs_from_its_fields(page):
    sign_in(page, "hana")
    page.goto(f"/ui/support-requests/{RS_MASS_EVENT}")
    workflow = WORKFLOWS["support-requests"]
    hana = Actor("hana", frozenset({"head"}))
    allowed = workflow.allowed_actions(hana, {"state": "screening", "party": "RS", "duplicates_found": False})
    forms = page.locator("section.actions form")
    offered = [f.get_attribute("action").rsplit("/", 1)[1] for f in forms.all()]
    assert offered[0] == "approve" and sorted(offered) == sorted(allowed)  # the next step first, then the rest
    for name in allowed:
        action = workflow.action(name)
        form = page.locator(f"section.actions form[action$='/{name}']")
        expect(form.locator("input[name=expected_version]")).to_have_value("3")
        for field in action.fields:
            control = form.locator(f"[name={field}]")
            expect(control).to_have_count(1)
            if field in action.requires:
                expect(control).to_have_attribute("required", "")
        reason = form.locator("textarea[name=reason]")
        if action.reason_required:
            expect(reason).to_have_attribute("required", "")
    duplicates = page.locator("form[action$='/record_duplication_check']").get_by_label("Duplicates found")
    expect(duplicates.locator("option")).to_have_text(["— choose —", "yes", "no"])
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_sara_creates_a_task_for_a_mandate_from_the_mandate_page(page):
    sign_in(page, "sara")
    mandate_id = Mandate.id_for(SUPPORT)
    page.goto(f"/ui/mandates/{mandate_id}")
    page.get_by_role("link", name="New task for this mandate").click()
    expect(page.get_by_label("Mandate")).to_have_value(str(mandate_id))
    offered = page.get_by_label("Mandate").locator("option").all_inner_texts()
    assert "Establish the PCC SEE Secretariat" not in offered  # fulfilled: no task may join it
    page.get_by_label("Title").fill("Map the regional training offers")
    page.get_by_label("Assignee").select_option("sara")  # chosen from those who may take the task
    page.get_by_label("Due").fill("2027-03-31")
    page.get_by_label("Partners").fill("SELEC, Europol ,")
    page.get_by_role("button", name="Create").click()

    assert re.search(r"/ui/tasks/[0-9a-f-]{36}\?done=create$", page.url)
    expect(state_of(page)).to_have_text("Open")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("SELEC, Europol")
    expect(details).to_contain_text("2027-03-31")
    expect(details.get_by_role("link", name=re.compile("Support Contracting Parties"))).to_have_count(1)
    details.get_by_role("link", name=re.compile("Support Contracting Parties")).click()
    expect(page.get_by_role("region", name="Details").get_by_role(
        "link", name="Map the regional training offers")).to_have_count(1)
    # Lists read the views, and the page waited for them: the new task is listed at once, newest first.
    page.goto("/ui/tasks?state=open")
    expect(page.locator("table tbody tr").first).to_contain_text("Map the regional training offers")


def test_a_new_item_with_a_bad_value_is_refused_and_the_form_keeps_what_was_typed(page):
    sign_in(page, "alba")
    page.goto("/ui/support-requests/new")
    expect(page.get_by_label("Party")).to_have_value("AL")
    page.get_by_label("Kind").select_option("financial")
    page.get_by_label("Activity").select_option("mass_event")
    page.get_by_label("Description").fill("Security for a regional summit.")
    page.get_by_label("Operational involvement").select_option("no")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Submit").click()
    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("a financial request needs amount_eur")
    expect(page.get_by_label("Description")).to_have_value("Security for a regional summit.")
    page.get_by_label("Amount (EUR)").fill("4500")
    page.get_by_role("button", name="Submit").click()
    expect(state_of(page)).to_have_text("Submitted")
    expect(page.get_by_role("region", name="Details")).to_contain_text("4,500")


def test_the_overview_shows_counts_my_tasks_and_the_deadlines_to_watch(page):
    sign_in(page, "erik")
    tasks_tile = page.get_by_role("region", name=re.compile("^Tasks"))
    expect(tasks_tile.get_by_role("link", name="In review")).to_have_count(1)
    mine = page.get_by_role("region", name="Assigned to me")
    expect(mine).to_contain_text("Prepare the Expert Working Group meeting")
    expect(mine.locator("tbody tr")).to_have_count(1)
    deadlines = page.get_by_role("region", name=re.compile("^Deadlines"))
    agreements = deadlines.locator("tr.overdue").filter(has_text="Catalogue bilateral and multilateral agreements")
    expect(agreements).to_contain_text("3 days overdue")
    progress = page.get_by_role("region", name=re.compile("^Active mandates"))
    expect(progress.get_by_role("link", name=SUPPORT)).to_have_count(1)
    # The EWG does not read support requests: none of their deadlines, no tile, no nav link.
    expect(deadlines).not_to_contain_text("Support request")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Overview", WAITING_ON_ME, "Mandates", "Tasks", "Meetings"])
