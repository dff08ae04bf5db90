"""A meeting's page and its lineage tree, on the demo's story."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect

from domain.mandate import Mandate
from secretariat.demo import SUPPORT, demo_id
from tests.browser.conftest import sign_in

SUPPORT_DECISION = demo_id("meeting", "com-2015-decision")
ANNUAL_REPORT = demo_id("task", "annual-report")


def test_the_meeting_page_links_to_a_tree_of_its_conclusions_mandates_and_tasks(page):
    sign_in(page, "sara")
    page.goto(f"/ui/meetings/{SUPPORT_DECISION}")
    expect(page.locator(".item-head .state")).to_have_text("Concluded")
    page.get_by_role("link", name="Lineage").click()

    assert page.url.endswith(f"/ui/meetings/{SUPPORT_DECISION}/lineage")
    tree = page.get_by_role("list", name="Lineage")
    conclusions = tree.locator("li.conclusion")
    expect(conclusions).to_have_count(2)
    expect(conclusions.first).to_contain_text("Conclusion 1")
    expect(conclusions.first).to_contain_text("no operational involvement")
    # Conclusion 1 became the support mandate, whose tasks hang beneath it.
    mandate = conclusions.first.locator(":scope > ul > li").first
    expect(mandate.locator(":scope > a")).to_contain_text("CoM-2015-05-05/1")
    expect(mandate.locator(":scope > ul > li > a")).to_contain_text(["Catalogue the Convention's activities"])
    expect(conclusions.nth(1).locator(":scope > ul > li > a")).to_have_text("Annual report to the Committee of "
                                                                            "Ministers")
    # Each entry links to its item's page.
    mandate.locator(":scope > a").click()
    expect(page.locator("h1")).to_contain_text("Support Contracting Parties in planning")
    assert page.url.endswith(f"/ui/mandates/{Mandate.id_for(SUPPORT)}")


def test_a_tasks_lineage_goes_up_to_the_meeting_and_conclusion_it_came_from(page):
    sign_in(page, "erik")
    page.goto(f"/ui/tasks/{ANNUAL_REPORT}")
    page.get_by_role("link", name="Lineage").click()
    tree = page.get_by_role("list", name="Lineage")
    expect(tree.locator(":scope > li > a")).to_have_text("Committee of Ministers decision on support to the "
                                                         "Contracting Parties")
    expect(tree.locator("li.conclusion")).to_contain_text("Conclusion 2")
    expect(tree.locator("li.this")).to_contain_text("Annual report to the Committee of Ministers")


def test_the_meeting_journey_logs_no_console_error_and_fetches_nothing_from_elsewhere(page, server_url):
    """Signing in, a meeting, its lineage tree, its printable report and /docs, with the network beyond
    127.0.0.1 cut off (as on the Secretariat's intranet): every resource loads from the app, and /docs renders."""
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

    def only_this_machine(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            return route.continue_()
        elsewhere.append(route.request.url)
        return route.abort("internetdisconnected")

    page.route("**/*", only_this_machine)
    sign_in(page, "sara")
    for path in (f"/ui/meetings/{SUPPORT_DECISION}", f"/ui/meetings/{SUPPORT_DECISION}/lineage",
                 f"/ui/meetings/{SUPPORT_DECISION}/report", "/docs"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Secretariat")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()  # the operations, read from /openapi.json
    assert errors == [] and elsewhere == []
