"""Signing in and out, and refusing what does not come from our own pages."""

from __future__ import annotations

import re

from urllib.parse import quote, urlsplit

from playwright.sync_api import expect

from secretariat.demo import demo_id
from tests.browser.conftest import sign_in

WAITING_ON_ME = re.compile(r"^Waiting on me \(\d+\)$")  # the queue's entry; its count moves as tests act

ANNUAL_REPORT = demo_id("task", "annual-report")


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_sign_in_form_and_back(page):
    page.goto(f"/ui/tasks/{ANNUAL_REPORT}")
    assert page.url.endswith(f"/login?next=/ui/tasks/{ANNUAL_REPORT}")
    page.get_by_label("Username").fill("sara")
    page.get_by_label("Password").fill("sara")
    page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith(f"/ui/tasks/{ANNUAL_REPORT}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Annual report to the Committee of Ministers")


def test_sara_signs_in_and_sees_who_she_is_her_roles_and_the_collections_she_may_read(page, context):
    sign_in(page, "sara")
    assert page.url.endswith("/")
    expect(page.locator(".whoami")).to_contain_text("Signed in as sara")
    expect(page.locator(".whoami")).to_contain_text("secretariat")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(["Overview", WAITING_ON_ME, "Mandates", "Tasks", "Support requests", "Meetings"])
    cookie = next(c for c in context.cookies() if c["name"] == "secretariat_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(page, context):
    page.goto("/login")
    page.get_by_label("Username").fill("sara")
    page.get_by_label("Password").fill("not-her-password")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/login")) as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Username")).to_have_value("sara")
    assert not [c for c in context.cookies() if c["name"] == "secretariat_session"]
    page.goto("/")
    assert "/login" in page.url


def test_signing_out_ends_the_session(page, context):
    sign_in(page, "erik")
    page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/login")
    assert not [c for c in context.cookies() if c["name"] == "secretariat_session"]
    page.goto("/ui/tasks")
    assert "/login" in page.url


def test_a_post_with_a_foreign_origin_or_referer_is_refused_and_changes_nothing(page, context, server_url):
    sign_in(page, "sara")
    page.goto(f"/ui/tasks/{ANNUAL_REPORT}")
    version = page.locator("input[name=expected_version]").first.get_attribute("value")
    for header in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                   {"Referer": "https://evil.example/page.html"}):
        answer = context.request.post(f"/ui/tasks/{ANNUAL_REPORT}/start", form={"expected_version": version},
                                      headers=header, max_redirects=0)
        assert answer.status == 403, header
        assert "another site" in answer.text()
    page.reload()
    expect(page.locator(".item-head .state")).to_have_text("Open")
    assert page.locator("input[name=expected_version]").first.get_attribute("value") == version
    # The same request from our own origin is taken: the refusal above was the Origin's doing.
    own = context.request.post(f"/ui/tasks/{ANNUAL_REPORT}/assign", headers={"Origin": server_url},
                               form={"expected_version": version, "assignee": "sara"}, max_redirects=0)
    assert own.status == 303


def test_signing_in_never_sends_the_user_to_another_site(page, server_url):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example"):
        page.goto("/login?next=" + quote(target))
        page.get_by_label("Username").fill("erik")
        page.get_by_label("Password").fill("erik")
        page.get_by_role("button", name="Sign in").click()
        landed = urlsplit(page.url)
        assert (landed.netloc, landed.path) == (urlsplit(server_url).netloc, "/"), target
        page.context.clear_cookies()


def test_an_unknown_page_answers_with_a_page_not_json(page):
    sign_in(page, "sara")
    response = page.goto("/ui/minutes")
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("alert")).to_contain_text("there is no collection 'minutes'")
    assert page.goto(f"/ui/tasks/{ANNUAL_REPORT}?version=99").status == 404
    expect(page.get_by_role("alert")).to_contain_text("has no version 99")
