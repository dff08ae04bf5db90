"""Comments over HTTP on a real server, on SQLite and PostgreSQL: recorded as an event and shown in the
history, Markdown made safe, `@username` reaching that user's inbox (and, served with SMTP, their mailbox),
and the Party's confidentiality: another Party's request answers a comment exactly as a missing id does."""

from __future__ import annotations

import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.e2e.conftest import (
    Server, _server_env, assert_problem, create, fresh_store, history_of, request_body, task_body, unique,
)
from tests.e2e.test_reminders import INBOX_WAIT_SECONDS, inbox_reminders_for
from tests.integration.test_delivery import Mailbox, free_port

MISSING = "00000000-0000-4000-8000-000000000000"


def comment(client: httpx.Client, collection: str, item_id: str, text: str) -> httpx.Response:
    return client.post(f"/{collection}/{item_id}/comments", json={"text": text})


def test_a_comment_is_recorded_rendered_safely_and_shown_in_the_history(as_user):
    sara, erik = as_user("sara"), as_user("erik")
    task = create(erik, "tasks", task_body(title=unique("Commented task ")))
    sent = comment(sara, "tasks", task["id"], "**Draft** ready <script>alert(1)</script> [x](javascript:alert(1))")
    assert sent.status_code == 201, sent.text
    added = sent.json()
    assert (added["author"], added["mentions"], added["not_notified"]) == ("sara", [], [])
    assert added["html"].startswith("<p><strong>Draft</strong> ready &lt;script&gt;")
    assert "<script" not in added["html"] and "href" not in added["html"]

    [listed] = erik.get(f"/tasks/{task['id']}/comments").json()["comments"]
    assert listed == {k: v for k, v in added.items() if k != "not_notified"}
    last = history_of(erik, "tasks", task["id"])[-1]
    assert (last["type"], last["actor"]) == ("Task.CommentAdded", "sara")
    assert last["data"] == {"comment_id": added["comment_id"], "text": added["text"], "mentions": []}
    page = erik.get(f"/ui/tasks/{task['id']}", headers={"Accept": "text/html"})  # not signed in on the pages
    assert page.status_code in (200, 303, 401)


def test_a_mention_reaches_the_inbox_of_a_reader_and_of_nobody_else(as_user):
    sara, alba, milan, hana = as_user("sara"), as_user("alba"), as_user("milan"), as_user("hana")
    request = create(alba, "support-requests", request_body(party="AL"))
    sent = comment(sara, "support-requests", request["id"], "@hana the check is done; @milan @ghost fyi")
    assert sent.status_code == 201, sent.text
    assert (sent.json()["mentions"], sent.json()["not_notified"]) == (["hana"], ["milan", "ghost"])

    [reminder] = inbox_reminders_for(hana, request["id"], INBOX_WAIT_SECONDS)
    assert (reminder["deadline"], reminder["rung"], reminder["addressed_to"]) == ("mention", "mentioned",
                                                                                  ["user:hana"])
    assert inbox_reminders_for(milan, request["id"], 0) == []
    acknowledged = hana.post(f"/reminders/{reminder['id']}/acknowledge")
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_by"] == "hana"


def test_a_liaison_neither_reads_nor_comments_on_another_partys_request(as_user):
    alba, milan = as_user("alba"), as_user("milan")
    request = create(alba, "support-requests", request_body(party="AL"))
    assert comment(alba, "support-requests", request["id"], "Our own: fine").status_code == 201
    for method, path, body in (("POST", "comments", {"text": "@alba hello"}), ("GET", "comments", None)):
        hidden = milan.request(method, f"/support-requests/{request['id']}/{path}", json=body)
        missing = milan.request(method, f"/support-requests/{MISSING}/{path}", json=body)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.content.replace(request["id"].encode(), b"ID") == missing.content.replace(MISSING.encode(),
                                                                                                b"ID")
    assert [c["author"] for c in alba.get(f"/support-requests/{request['id']}/comments").json()["comments"]] \
        == ["alba"]  # nothing of milan's was recorded


def test_auditors_read_comments_and_are_refused_writing_one(as_user):
    task = create(as_user("erik"), "tasks", task_body())
    assert_problem(comment(as_user("audrey"), "tasks", task["id"], "Noted"), 403, "a role that may act on it")
    assert as_user("audrey").get(f"/tasks/{task['id']}/comments").json() == {"comments": []}


def test_a_comment_without_text_or_too_long_is_refused_naming_the_field(as_user):
    task = create(as_user("erik"), "tasks", task_body())
    for body in ({}, {"text": ""}, {"text": "x" * 10_001}):
        problem = assert_problem(as_user("sara").post(f"/tasks/{task['id']}/comments", json=body), 422)
        assert "text" in str(problem)
    assert_problem(comment(as_user("sara"), "tasks", task["id"], "   \n "), 422, "empty")


# -- a server of its own that sends e-mail to a real SMTP server --------------------------------------------


@contextmanager
def server_mailing(store: str, workdir: Path, smtp_port: int) -> Iterator[Server]:
    secret_key = secrets.token_urlsafe(36)
    with fresh_store(store, workdir) as (url, schema):
        env = {**_server_env(url, secret_key), "SECRETARIAT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
               "SECRETARIAT_MAIL_FROM": "secretariat@pccsee.example"}
        srv = Server(store=store, base_url="", env=env, workdir=workdir, log_path=workdir / "server.log",
                     secret_key=secret_key, schema=schema)
        try:
            srv.start()
            yield srv
        finally:
            srv.stop()


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_mention_is_emailed_to_the_mentioned_user_by_the_served_scheduler(store, tmp_path):
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with server_mailing(store, tmp_path, port) as srv:
            assert srv.client("erik").get("/me").json()["email"] == "erik@pccsee.example"  # as the demo sets it
            task = create(srv.client("erik"), "tasks", task_body(title=unique("Mailed task ")))
            assert comment(srv.client("sara"), "tasks", task["id"], "@erik please review").status_code == 201
            deadline, mentions = time.monotonic() + 15, []
            while not mentions and time.monotonic() < deadline:  # the demo's own reminders are mailed too
                time.sleep(0.2)
                mentions = [(to, m) for to, m in box.messages if "mentioned you" in m["Subject"]]
            assert [(to, m["Subject"]) for to, m in mentions] == [(["erik@pccsee.example"],
                                                                   f"sara mentioned you: {task['title']}")]
            assert f"{srv.base_url}/ui/tasks/{task['id']}" in mentions[0][1].get_content()
            assert "Traceback" not in srv.log()
    finally:
        controller.stop()


def test_a_comment_with_a_nul_character_is_refused_and_the_read_models_keep_up(as_user, server):
    # PostgreSQL text cannot hold NUL: once recorded, such a comment would stop the items' read model for everyone.
    sara, erik = as_user("sara"), as_user("erik")
    task = create(erik, "tasks", task_body(title=unique("NUL comment ")))
    assert_problem(comment(sara, "tasks", task["id"], "before\x00after"), 422, "comment", "NUL")

    later = unique("seen after the refused comment ")
    assert comment(sara, "tasks", task["id"], later).status_code == 201
    deadline = time.monotonic() + 10
    while server.anonymous().get("/health").json()["projection_lag"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.anonymous().get("/health").json()["projection_lag"] == 0
