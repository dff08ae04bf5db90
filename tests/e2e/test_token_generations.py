"""Which tokens end when, over real HTTP: password change and reset, signing out, deactivation.

Each test signs in a user of its own, so the demo users' tokens other tests hold stay good.
"""

from __future__ import annotations

import httpx

from tests.e2e.conftest import assert_problem, unique

PASSWORD = "a-long-enough-password"


def new_user(server, as_user) -> str:
    username = unique("tess")
    added = as_user("admin").post("/users", json={"username": username, "password": PASSWORD, "roles": ["ewg"]})
    assert added.status_code == 201, added.text
    return username


def sign_in(server, username: str, password: str = PASSWORD) -> str:
    response = server.anonymous().post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def calendar_url(server, token: str) -> str:
    response = server.anonymous().post("/calendar/feed-token", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["url"]


def works(server, token: str) -> bool:
    return server.anonymous().get("/me", headers=bearer(token)).status_code == 200


def feed_works(url: str) -> bool:
    status = httpx.get(url, timeout=30).status_code
    assert status in (200, 401), status
    return status == 200


def test_changing_your_own_password_needs_the_current_one_and_ends_every_token(server, as_user):
    username = new_user(server, as_user)
    token, other_device = sign_in(server, username), sign_in(server, username)
    feed = calendar_url(server, token)
    change = f"/users/{username}/password"
    assert_problem(server.anonymous().post(change, json={"password": "a-new-long-password"}, headers=bearer(token)),
                   422, "current_password")
    assert_problem(server.anonymous().post(change, json={"password": "a-new-long-password", "current_password":
                                                         "not-it"}, headers=bearer(token)), 403, "current password")
    assert works(server, token) and feed_works(feed)  # nothing changed yet
    changed = server.anonymous().post(change, json={"password": "a-new-long-password", "current_password": PASSWORD},
                                      headers=bearer(token))
    assert changed.status_code == 204, changed.text
    assert not works(server, token) and not works(server, other_device) and not feed_works(feed)
    assert_problem(server.anonymous().get("/me", headers=bearer(token)), 401, "signed out")
    assert works(server, sign_in(server, username, "a-new-long-password"))


def test_an_admin_reset_ends_every_token_of_the_user(server, as_user):
    username = new_user(server, as_user)
    token = sign_in(server, username)
    feed = calendar_url(server, token)
    reset = as_user("admin").post(f"/users/{username}/password", json={"password": "reset-by-the-admin"})
    assert reset.status_code == 204, reset.text
    assert not works(server, token) and not feed_works(feed)


def test_sign_out_everywhere_ends_every_token_and_calendar_url(server, as_user):
    username = new_user(server, as_user)
    token, other_device = sign_in(server, username), sign_in(server, username)
    feed = calendar_url(server, token)
    out = server.anonymous().post("/auth/sign-out-everywhere", headers=bearer(token))
    assert out.status_code == 204, out.text
    assert not works(server, token) and not works(server, other_device) and not feed_works(feed)
    assert_problem(server.anonymous().post("/auth/sign-out-everywhere"), 401)
    assert works(server, sign_in(server, username))


def test_signing_out_of_the_pages_ends_a_copy_of_the_session_cookie(server, as_user):
    username = new_user(server, as_user)
    token = sign_in(server, username)
    feed = calendar_url(server, token)
    with httpx.Client(base_url=server.base_url, timeout=30) as browser:
        signed_in = browser.post("/login", data={"username": username, "password": PASSWORD, "next": "/"})
        assert signed_in.status_code == 303, signed_in.text
        copied = dict(browser.cookies)
        assert browser.get("/ui/tasks").status_code == 200
        assert browser.post("/logout").status_code == 303
    with httpx.Client(base_url=server.base_url, timeout=30, cookies=copied) as thief:
        stale = thief.get("/ui/tasks")
        assert stale.status_code == 303 and stale.headers["location"].startswith("/login")
    assert not works(server, token)
    assert feed_works(feed)  # a calendar subscription outlives signing out of one browser


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(server, as_user):
    username = new_user(server, as_user)
    token = sign_in(server, username)
    admin = as_user("admin")
    assert_problem(as_user("sara").post(f"/users/{username}/deactivate", json={"reason": "Left"}), 403)
    gone = admin.post(f"/users/{username}/deactivate", json={"reason": "Left the Secretariat"})
    assert gone.status_code == 200 and gone.json()["active"] is False, gone.text
    assert not works(server, token)
    assert_problem(server.anonymous().post("/auth/token", data={"username": username, "password": PASSWORD}), 401)
    back = admin.post(f"/users/{username}/reactivate", json={"reason": "Came back"})
    assert back.status_code == 200 and back.json()["active"] is True, back.text
    assert works(server, sign_in(server, username)) and not works(server, token)


def test_the_feed_url_is_built_from_the_base_url_never_from_the_host_header(server, as_user):
    response = as_user("sara").post("/calendar/feed-token", headers={"Host": "evil.example"})
    assert response.status_code == 200, response.text
    assert response.json()["url"].startswith(f"{server.base_url}/calendar.ics?token=")
