"""Sign-in under attack, over real HTTP: back-off, lock-out, bounded password checks, trusted proxies.

The server here trusts 127.0.0.1 as a proxy, so each test picks its client addresses through
X-Forwarded-For; it locks a username out at 3 wrong passwords, runs two password checks at a
time (one of them kept for pairs that signed in before), and has no SECRETARIAT_BASE_URL.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import threading
import time
from typing import Iterator

import httpx
import pytest

from domain.user import User
from tests.e2e.conftest import SECRETARIAT, Server, _server_env, assert_problem


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("e2e-guarded")
    secret_key = secrets.token_urlsafe(36)
    env = _server_env(f"sqlite:///{workdir}/guarded.db", secret_key)
    env.update(SECRETARIAT_TRUSTED_PROXIES="127.0.0.1", SECRETARIAT_SIGN_IN_LOCKOUT_FAILURES="3",
               SECRETARIAT_SIGN_IN_MAX_CONCURRENT="2", SECRETARIAT_ARGON2_TIME_COST="1",
               SECRETARIAT_ARGON2_MEMORY_COST="8192", SECRETARIAT_ARGON2_PARALLELISM="1")
    srv = Server(store="sqlite", base_url="", env=env, workdir=workdir, log_path=workdir / "server.log",
                 secret_key=secret_key, public_url=False)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def sign_in(server: Server, username: str, password: str, address: str) -> httpx.Response:
    return server.anonymous().post("/auth/token", data={"username": username, "password": password},
                                   headers={"X-Forwarded-For": address})


def retry_after(response: httpx.Response) -> int:
    seconds = int(response.headers["retry-after"])
    assert seconds >= 1, response.headers
    return seconds


def audit_events(server: Server, token: str, **params) -> list[dict]:
    """The decision log's events (the view follows the log within moments: wait for a match)."""
    deadline = time.monotonic() + 10
    while True:
        response = server.anonymous().get("/audit/events", params=params, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        if response.json()["events"] or time.monotonic() > deadline:
            return response.json()["events"]
        time.sleep(0.1)


def test_repeated_wrong_passwords_lock_the_username_out_and_the_decision_log_says_so(guarded):
    for n in range(3):
        assert_problem(sign_in(guarded, "milan", "not-his", f"203.0.113.{n + 1}"), 401)
    # Locked now: even the right password, from a new address, is not tried.
    locked = sign_in(guarded, "milan", "milan", "203.0.113.9")
    assert_problem(locked, 429, "locked")
    assert 800 < retry_after(locked) <= 900
    page = guarded.anonymous().post("/login", data={"username": "milan", "password": "milan", "next": "/"},
                                    headers={"X-Forwarded-For": "203.0.113.10"})
    assert page.status_code == 429 and retry_after(page) and "locked" in page.text

    audrey = sign_in(guarded, "audrey", "audrey", "192.0.2.200").json()["access_token"]
    events = audit_events(guarded, audrey, type="User.LockedOut", item_id=str(User.id_for("milan")))
    assert [(e["actor"], e["kind"]) for e in events] == [("sign-in-throttle", "user")]
    assert "3 wrong passwords" in events[0]["reason"] and events[0]["data"]["until"]


def test_an_address_trying_many_usernames_must_wait_after_its_free_failures(guarded):
    for n in range(11):
        assert_problem(sign_in(guarded, f"nobody{n}", "guess", "198.51.100.50"), 401)
    refused = sign_in(guarded, "nobody-else", "guess", "198.51.100.50")
    assert_problem(refused, 429, "wait")
    assert retry_after(refused) == 1
    assert sign_in(guarded, "hana", "hana", "198.51.100.51").status_code == 200  # another address is not slowed


def test_password_checks_are_bounded_and_a_slot_is_kept_for_a_pair_that_signed_in_before(guarded):
    # A user whose hash takes seconds to check holds the strangers' slot while the others knock.
    env = {**guarded.env, "SECRETARIAT_ARGON2_TIME_COST": "20", "SECRETARIAT_ARGON2_MEMORY_COST": "131072"}
    added = subprocess.run([str(SECRETARIAT), "users", "add", "slowpoke", "--role", "ewg", "--password",
                            "slowpoke-password"], env=env, cwd=guarded.workdir, capture_output=True, text=True,
                           timeout=120)
    assert added.returncode == 0, added.stdout + added.stderr
    assert sign_in(guarded, "erik", "erik", "192.0.2.10").status_code == 200  # erik from here is known now

    holding = threading.Thread(target=sign_in, args=(guarded, "slowpoke", "wrong-password", "192.0.2.11"))
    holding.start()
    try:
        time.sleep(0.5)  # the slow check has the strangers' slot by now (it takes two seconds or more)
        busy = httpx.post(f"{guarded.base_url}/auth/token", data={"username": "hana", "password": "hana"},
                          headers={"X-Forwarded-For": "192.0.2.12"}, timeout=30)
        assert_problem(busy, 503, "too many sign-ins at once")
        assert retry_after(busy) == 1
        returning = httpx.post(f"{guarded.base_url}/auth/token", data={"username": "erik", "password": "erik"},
                            headers={"X-Forwarded-For": "192.0.2.10"}, timeout=30)
        assert returning.status_code == 200, returning.text
    finally:
        holding.join()


def test_behind_a_trusted_tls_proxy_the_session_cookie_is_secure(guarded):
    signed_in = guarded.anonymous().post("/login", data={"username": "sara", "password": "sara", "next": "/"},
                                         headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.30"})
    assert signed_in.status_code == 303, signed_in.text
    assert "secure" in signed_in.headers["set-cookie"].lower().split("; ")


def test_forwarded_headers_from_anyone_else_are_ignored(server):
    signed_in = server.anonymous().post("/login", data={"username": "sara", "password": "sara", "next": "/"},
                                        headers={"X-Forwarded-Proto": "https"})
    assert signed_in.status_code == 303, signed_in.text
    assert "secure" not in signed_in.headers["set-cookie"].lower().split("; ")


def test_without_a_base_url_no_feed_url_is_handed_out_and_the_feed_links_nowhere(guarded):
    token = sign_in(guarded, "sara", "sara", "192.0.2.40").json()["access_token"]
    as_sara = {"Authorization": f"Bearer {token}", "Host": "evil.example"}
    assert_problem(guarded.anonymous().post("/calendar/feed-token", headers=as_sara), 409, "SECRETARIAT_BASE_URL")
    feed = guarded.anonymous().get("/calendar.ics", headers=as_sara)
    assert feed.status_code == 200 and b"BEGIN:VEVENT" in feed.content
    assert b"evil.example" not in feed.content
