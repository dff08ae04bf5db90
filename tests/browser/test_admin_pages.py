"""The admin's back office in the browser: users added and changed, the business calendar, deliveries, and
that nobody but those roles gets these pages."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.looking import look_at
from tests.browser.quality import assert_accessible

NOT_ADMINS = ("sara", "hana", "erik", "alba", "audrey")


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def test_the_admin_lands_on_the_back_office_instead_of_an_empty_overview(page):
    sign_in(page, "admin")
    expect(page.locator("main")).not_to_contain_text("read none of the collections")
    expect(page.get_by_role("link", name="Users")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Administration", exact=True)).to_be_visible()
    expect(page.locator(".office-areas a")).to_have_text(["Users", "Business calendar"])
    look_at(page, "admin home")


def test_the_admin_adds_a_user_who_can_then_sign_in(page):
    sign_in(page, "admin")
    page.goto("/ui/admin/users")
    expect(page.locator("table.users tbody tr")).to_have_count(7)  # the demo's users
    look_at(page, "admin users")
    page.get_by_label("Username").fill("nadia")
    page.get_by_label("Password").fill("nadia-passphrase")
    page.get_by_label("E-mail").fill("nadia@pccsee.example")
    page.get_by_label("secretariat").check()
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("status")).to_contain_text("The user was added")
    expect(page.get_by_role("heading", name="nadia")).to_be_visible()
    look_at(page, "admin user")
    _sign_out(page)

    sign_in(page, "nadia", "nadia-passphrase")
    expect(page.locator(".whoami")).to_contain_text("nadia")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks")).to_be_visible()


def test_a_user_form_refused_says_what_to_fix_and_adds_nobody(page):
    sign_in(page, "admin")
    page.goto("/ui/admin/users")
    page.get_by_label("Username").fill("sara")
    page.get_by_label("Password").fill("another-passphrase")
    page.get_by_label("auditor").check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Add the user").click()
    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("a user named 'sara' already exists")
    expect(page.locator("table.users tbody tr", has_text="sara")).to_contain_text("secretariat")
    expect(page.locator("table.users tbody tr", has_text="sara")).not_to_contain_text("auditor")
    assert_accessible(page)


def test_the_admin_grants_a_role_resets_a_password_and_deactivates_a_user(page):
    sign_in(page, "admin")
    page.goto("/ui/admin/users")
    page.get_by_label("Username").fill("petra")
    page.get_by_label("Password").fill("petra-passphrase")
    page.get_by_label("ewg").check()
    page.get_by_role("button", name="Add the user").click()
    page.get_by_label("Role to grant").select_option("auditor")
    page.get_by_role("button", name="Grant").click()
    expect(page.get_by_role("status")).to_contain_text("The role was granted")
    expect(page.locator(".meta")).to_contain_text("auditor, ewg")
    page.get_by_label("New password").fill("petra-new-passphrase")
    page.get_by_role("button", name="Reset the password").click()
    expect(page.get_by_role("status")).to_contain_text("The password was reset")
    page.get_by_role("form", name="Deactivate").get_by_label("Reason").fill("left the EWG")
    page.get_by_role("button", name="Deactivate petra").click()
    expect(page.get_by_role("status")).to_contain_text("can no longer sign in")
    expect(page.get_by_role("button", name="Reactivate petra")).to_be_visible()
    _sign_out(page)

    page.goto("/login")
    page.get_by_label("Username").fill("petra")
    page.get_by_label("Password").fill("petra-new-passphrase")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")


def test_the_admin_closes_a_day_and_reopens_it(page):
    sign_in(page, "admin")
    page.goto("/ui/admin/closures")
    page.get_by_label("Day to close").fill("2031-02-12")  # a Wednesday, no holiday
    page.get_by_role("form", name="Close a day").get_by_label("Reason").fill("Move to the new office")
    page.get_by_role("button", name="Close the day").click()
    expect(page.get_by_role("status")).to_contain_text("The day is closed")
    row = page.locator("tbody tr", has_text="2031-02-12")
    expect(row).to_contain_text("Move to the new office")
    expect(row).to_contain_text("admin")
    look_at(page, "admin closures")
    row.get_by_label("Why 2031-02-12 is open after all").fill("The move was postponed")
    row.get_by_role("button", name="Reopen 2031-02-12").click()
    expect(page.get_by_role("status")).to_contain_text("open again")
    expect(page.locator("tbody tr", has_text="2031-02-12")).to_have_count(0)


def test_closing_a_weekend_is_refused_in_words(page):
    sign_in(page, "hana")  # the head keeps the calendar too
    page.goto("/ui/admin/closures")
    page.get_by_label("Day to close").fill("2031-02-15")
    page.get_by_role("form", name="Close a day").get_by_label("Reason").fill("Saturday")
    page.get_by_role("button", name="Close the day").click()
    expect(page.get_by_role("alert")).to_contain_text("2031-02-15 is a Saturday: already a day off")


def test_the_head_reads_deliveries_and_the_admin_may_not(page):
    sign_in(page, "hana")
    page.goto("/ui/admin")
    expect(page.locator(".office-areas a")).to_have_text(["Business calendar", "Deliveries"])
    page.get_by_role("link", name="Deliveries").click()
    expect(page.get_by_role("heading", name="Deliveries")).to_be_visible()
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/ui/admin/deliveries?status=&channel=")
    expect(page.get_by_label("Status")).to_have_value("")
    look_at(page, "admin deliveries")
    assert page.goto("/ui/admin/deliveries?status=lost").status == 422
    unknown = page.context.request.post("/ui/admin/deliveries/00000000-0000-4000-8000-000000000000/retry")
    assert unknown.status == 404
    _sign_out(page)
    sign_in(page, "admin")
    assert page.goto("/ui/admin/deliveries").status == 403


def test_no_one_but_the_admin_gets_the_users_pages_or_changes_a_user(browser, server_url):
    for username in NOT_ADMINS:
        context = browser.new_context(base_url=server_url)
        page = context.new_page()
        sign_in(page, username)
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Admin")).to_have_count(1 if username == "hana" else 0)
        for path in ("/ui/admin/users", "/ui/admin/users/sara"):
            response = page.goto(path)
            assert response.status == 403, (username, path)
            expect(page.get_by_role("alert")).to_contain_text("managing users needs")
        for change, form in (("deactivate", {"reason": "taken over"}), ("password", {"password": "x" * 12}),
                             ("grant", {"role": "admin"})):
            answer = page.context.request.post(f"/ui/admin/users/sara/{change}", form=form)
            assert answer.status == 403, (username, change)
        answer = page.context.request.post("/ui/admin/users", form={"username": "intruder", "password": "x" * 12,
                                                                    "role-admin": "yes"})
        assert answer.status == 403
        if username != "hana":  # the head keeps the calendar; the auditor reads deliveries
            assert page.goto("/ui/admin/closures").status == 403
            assert page.goto("/ui/admin").status == (200 if username == "audrey" else 403)
        context.close()
    page = browser.new_page(base_url=server_url)
    sign_in(page, "admin")
    page.goto("/ui/admin/users")
    expect(page.locator("table.users")).not_to_contain_text("intruder")
    expect(page.locator("table.users tbody tr", has_text="sara")).to_contain_text("may sign in")
    page.close()


def test_the_auditor_reads_deliveries_but_gets_no_retry(page):
    sign_in(page, "audrey")
    page.goto("/ui/audit")
    page.get_by_role("link", name="Deliveries of reminders").click()
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.deliveries tbody tr").first).to_be_visible()
    expect(page.locator("main form[method=post]")).to_have_count(0)
    answer = page.context.request.post("/ui/admin/deliveries/00000000-0000-4000-8000-000000000000/retry")
    assert answer.status == 403
