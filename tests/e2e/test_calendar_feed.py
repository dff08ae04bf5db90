"""The deadlines feed (`GET /calendar.ics`), read back as a calendar client would, over real HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import httpx
import jwt
from icalendar import Calendar

from tests.e2e.conftest import (_free_port, act, assert_problem, create, mandate_body, request_body, task_body,
                                unique)


def feed(client: httpx.Client, url: str = "/calendar.ics", **params) -> dict[str, dict]:
    """The feed's events by UID, each as {"start", "end", "summary", "description", "url"}."""
    response = client.get(url, params=params or None)  # an empty dict would drop the URL's own query
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert "at most 2000 events" in str(calendar["X-WR-CALDESC"])
    events = {}
    for event in calendar.walk("VEVENT"):
        events[str(event["UID"])] = {"start": event["DTSTART"].dt, "end": event["DTEND"].dt,
                                     "summary": str(event["SUMMARY"]), "description": str(event["DESCRIPTION"]),
                                     "url": str(event["URL"])}
    return events


def feed_link(client: httpx.Client, **params) -> str:
    response = client.post("/calendar/feed-token", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=364) < expires - datetime.now(timezone.utc) <= timedelta(days=365)
    return body["url"]


def token_in(url: str) -> str:
    return httpx.URL(url).params["token"]


def uid(item: dict, kind: str) -> str:
    return f"{item['id']}.{kind}@secretariat"


def test_each_open_deadline_is_an_all_day_event_naming_its_item_and_linking_to_its_page(server, as_user):
    mandate = create(as_user("sara"), "mandates", mandate_body(report_due="2027-06-30"))
    task = create(as_user("erik"), "tasks", task_body(title=unique("Catalogue agreements "), due="2027-03-01"))
    request = create(as_user("alba"), "support-requests", request_body(needed_by="2027-04-01"))

    events = feed(as_user("sara"))

    for item, collection in ((mandate, "mandates"), (task, "tasks"), (request, "support-requests")):
        assert item["deadlines"] and all(d["open"] for d in item["deadlines"]), item
        for deadline in item["deadlines"]:
            event = events[uid(item, deadline["kind"])]
            due = date.fromisoformat(deadline["due"])
            assert (event["start"], event["end"]) == (due, due + timedelta(days=1))
            assert event["url"] == f"{server.base_url}/ui/{collection}/{item['id']}"
    assert events[uid(mandate, "report_due")]["summary"] == f"Report due: {mandate['reference']}: {mandate['title']}"
    assert events[uid(task, "due")]["summary"] == f"Due: {task['title']}"
    assert "state: open" in events[uid(task, "due")]["description"]
    assert "Assignee: sara" in events[uid(task, "due")]["description"]
    assert events[uid(request, "needed_by")]["summary"].startswith("Needed by: ")
    assert events[uid(request, "decision")]["summary"].startswith("Decision due: ")
    assert "Party: AL" in events[uid(request, "needed_by")]["description"]


def test_an_event_follows_its_deadline_and_leaves_when_the_deadline_closes(as_user):
    sara, erik = as_user("sara"), as_user("erik")
    task = create(erik, "tasks", task_body(due="2027-03-01"))
    act(sara, "tasks", task["id"], "reschedule", {"due": "2027-05-03", "reason": "The Parties asked for time"})
    assert feed(sara)[uid(task, "due")]["start"] == date(2027, 5, 3)  # the same UID: clients move the event
    act(erik, "tasks", task["id"], "cancel", {"reason": "No longer needed"})
    assert uid(task, "due") not in feed(sara)


def test_mine_narrows_the_feed_to_items_assigned_to_the_caller(as_user):
    erik = as_user("erik")
    for_sara = create(erik, "tasks", task_body(assignee="sara"))
    for_erik = create(erik, "tasks", task_body(assignee="erik"))
    mandate = create(as_user("sara"), "mandates", mandate_body(report_due="2027-06-30"))

    mine = feed(as_user("sara"), mine="true")
    assert uid(for_sara, "due") in mine
    assert uid(for_erik, "due") not in mine and uid(mandate, "report_due") not in mine
    assert all("Assignee: sara" in event["description"] for event in mine.values())
    # The link the feed-token route hands out keeps the choice.
    assert httpx.URL(feed_link(as_user("sara"), mine="true")).params["mine"] == "true"


def test_a_party_liaisons_feed_holds_only_their_own_partys_requests(as_user, anonymous):
    ours = create(as_user("alba"), "support-requests", request_body(party="AL"))
    theirs = create(as_user("milan"), "support-requests", request_body(party="RS"))
    create(as_user("erik"), "tasks", task_body())

    alba = feed(anonymous, feed_link(as_user("alba")))
    assert uid(ours, "needed_by") in alba and uid(theirs, "needed_by") not in alba
    for event in alba.values():
        if "/ui/meetings/" in event["url"]:  # the meetings Albania takes part in, and their deadlines
            assert as_user("alba").get(event["url"].split("/ui", 1)[1]).status_code == 200
        else:
            assert "/ui/support-requests/" in event["url"] and "Party: AL" in event["description"]
    milan = feed(anonymous, feed_link(as_user("milan")))
    assert uid(theirs, "needed_by") in milan and uid(ours, "needed_by") not in milan


def test_a_role_that_reads_no_items_gets_an_empty_calendar(as_user):
    create(as_user("erik"), "tasks", task_body())
    assert feed(as_user("admin")) == {}


def test_a_revoked_role_empties_the_feed_on_its_next_request(as_user, anonymous, server):
    admin, username = as_user("admin"), unique("liaison")
    assert admin.post("/users", json={"username": username, "password": "correct horse", "roles": ["party"],
                                      "party": "AL"}).status_code == 201
    ours = create(as_user("alba"), "support-requests", request_body(party="AL"))
    link = feed_link(server.client(username, "correct horse"))
    assert uid(ours, "needed_by") in feed(anonymous, link)

    assert admin.delete(f"/users/{username}/roles/party").status_code == 200
    assert feed(anonymous, link) == {}


def test_a_calendar_token_opens_the_feed_only(as_user, anonymous):
    calendar_token = token_in(feed_link(as_user("sara")))
    as_bearer = {"Authorization": f"Bearer {calendar_token}"}
    for path in ("/dashboard", "/me", "/tasks", "/calendar.ics"):
        assert_problem(anonymous.get(path, headers=as_bearer), 401, "invalid or expired")
    assert_problem(anonymous.post("/calendar/feed-token", headers=as_bearer), 401)
    # The page session refuses it too.
    page = anonymous.get("/", headers={"Cookie": f"secretariat_session={calendar_token}"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_the_feed_takes_an_access_token_in_the_header_but_not_in_the_query(as_user, anonymous, server):
    assert isinstance(feed(as_user("sara")), dict)
    assert_problem(anonymous.get("/calendar.ics", params={"token": server.token("sara")}), 401,
                   "calendar token is invalid or expired")


def test_an_expired_forged_or_missing_calendar_token_is_refused(anonymous, server):
    now = datetime.now(timezone.utc)

    def signed(key: str, **claims) -> str:
        claims = {"sub": "sara", "iss": "secretariat", "iat": now, "exp": now + timedelta(days=1),
                  "scope": "calendar", **claims}
        return jwt.encode(claims, key, algorithm="HS256")

    refused = [signed(server.secret_key, exp=now - timedelta(seconds=5)),  # expired
               signed("another key that is at least 32 bytes long"),  # forged
               signed(server.secret_key, sub="nobody-by-this-name"),  # no such user
               signed(server.secret_key, scope="admin"), "not-a-jwt"]
    for token in refused:
        assert_problem(anonymous.get("/calendar.ics", params={"token": token}), 401,
                       "calendar token is invalid or expired")
    assert_problem(anonymous.get("/calendar.ics"), 401, "/calendar/feed-token")
    assert_problem(anonymous.post("/calendar/feed-token"), 401)
    assert anonymous.get("/calendar.ics", params={"token": signed(server.secret_key)}).status_code == 200


def test_uvicorns_access_log_shows_the_feed_request_without_its_token(server, as_user, tmp_path):
    """Run as `uvicorn --factory` runs it, where the access log is on by default."""
    token = token_in(feed_link(as_user("sara")))
    port, log_path = _free_port(), tmp_path / "uvicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory",
                                    "secretariat.server:api_from_settings", "--host", "127.0.0.1", "--port", str(port)],
                                   env=server.env, cwd=server.workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(f"{base}/calendar.ics", params={"mine": "true", "token": token}).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    log = log_path.read_text()
    assert "GET /calendar.ics?mine=true&token=REDACTED HTTP/1.1\" 200" in log, log
    assert token not in log
