"""Reminders delivered by e-mail (a real SMTP server) and webhook (a real HTTP receiver), on each real store:
queued once for every channel whatever the settings, retried with backoff, never sent twice at once, failures
and rows no worker can send kept in sight, and each shown only to those who read its item's collection."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_api
from domain.errors import NotFound
from domain.support_request import SupportRequest
from domain.task import Task
from projections.database import engine_for
from projections.queries import ReadModels
from projections.runner import ProjectionRunner
from scheduler.channels import EmailChannel, SmtpServer, WebhookChannel
from scheduler.delivery import LEASE, MAX_AGE, DeliveryWorker
from scheduler.outbox import OPERATOR, DeliveriesProjection, Outbox, deliveries, delivery_id
from tests.factories import ADMIN, ERIK, register_cast, task_values

SECRET = "a-webhook-secret-of-more-than-32-bytes"
MAX_ATTEMPTS = 4


# -- real receivers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    """What an aiosmtpd server received; `answers` scripts its replies to DATA (then 250)."""

    messages: list = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.answers:
            return self.answers.pop(0)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default_policy)))
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"p@ss word")


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=box.authenticate,
                            auth_require_tls=False)
    controller.start()
    yield box, port
    controller.stop()


@dataclass
class Receiver:
    """A webhook receiver: records each POST; `statuses` scripts its answers (then 200)."""

    url: str = ""
    posts: list[tuple[dict, bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    always: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict, body: bytes) -> int:
        with self.lock:
            self.posts.append((headers, body))
            if self.always is not None:
                return self.always
            return self.statuses.pop(0) if self.statuses else 200

    def ids(self) -> Counter:
        return Counter(headers["secretariat-delivery"] for headers, _ in self.posts)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.answer({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/secretariat"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# -- the outbox on each store ---------------------------------------------------------------------


@pytest.fixture
def service(service):
    register_cast(service)
    for name in ("sara", "hana"):
        service.change_email(name, f"{name}@pccsee.example", actor=ADMIN)
    return service


@pytest.fixture
def engine(store_env):
    engine = engine_for(store_env, writer=True)
    yield engine
    engine.dispose()


@pytest.fixture
def projection() -> DeliveriesProjection:
    return DeliveriesProjection()


@pytest.fixture
def runner(service, engine, projection, store_env):
    runner = ProjectionRunner(service, engine, [projection], reader=engine_for(store_env))
    runner.setup()
    yield runner
    runner.reader.dispose()


def worker(engine, service, clock, *channels, **kw) -> DeliveryWorker:
    return DeliveryWorker(engine, channels, recipients=service.recipients, clock=clock,
                          max_attempts=kw.pop("max_attempts", MAX_ATTEMPTS), random=kw.pop("random", lambda: 1.0),
                          **kw)


def webhook(receiver: Receiver) -> WebhookChannel:
    return WebhookChannel(receiver.url, SECRET, timeout=5)


def email(port: int, url: str | None = None) -> EmailChannel:
    return EmailChannel(SmtpServer.from_url(url or f"smtp://127.0.0.1:{port}"), "secretariat@pccsee.example",
                        base_url="https://secretariat.pccsee.example", timeout=5)


def raise_upcoming_reminder(service, clock, **task) -> Task:
    """A task due 2026-12-15, and its 'upcoming' reminder raised on 2026-12-08 (09:00 in Ljubljana)."""
    item = service.create_task(ERIK, task_values(**{"assignee": "sara", "due": date(2026, 12, 15), **task})).item
    clock.now = datetime(2026, 12, 8, 8, 30, tzinfo=timezone.utc)
    raised = service.raise_reminders([item.id])
    assert [r["rung"] for r in raised] == ["upcoming"]
    return item


def queue(engine, n: int, *, addressed_to: list[str] | None = None, at: datetime, of=Task,
          title: str = "Task {i}", first: int = 1000) -> list[str]:
    """`n` reminders raised at `at` on items of class `of`, put through the projection as the runner would
    (a row for each channel); their reminder ids."""
    events = [of.ReminderRaised(originator_id=uuid4(), originator_version=2, timestamp=at, occurred_at=at,
                                actor="scheduler",
                                reason=None,
                                data={"reminder_id": str(uuid4()), "deadline": "due", "due": date(2026, 12, 15),
                                      "rung": "due_soon", "instant": at, "addressed_to": addressed_to or
                                      ["user:sara"], "title": title.format(i=i)}) for i in range(n)]
    with engine.begin() as conn:
        DeliveriesProjection().handle(conn, [(first + i, e) for i, e in enumerate(events)])
    return [e.data["reminder_id"] for e in events]


def rows(engine, channel: str | None = None) -> list[dict]:
    """The outbox's rows, oldest first; of `channel` only, if given."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(deliveries)
                                              .where(*([deliveries.c.channel == channel] if channel else []))
                                              .order_by(deliveries.c.position, deliveries.c.channel)).mappings()]


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# -- queueing ---------------------------------------------------------------------------------------


def test_a_raised_reminder_is_queued_once_for_each_channel_however_often_it_is_projected(
        service, clock, runner, projection, engine):
    item = raise_upcoming_reminder(service, clock)
    runner.catch_up(projection)
    queued = rows(engine)
    assert [(r["channel"], r["status"], r["attempts"]) for r in queued] == [("email", "pending", 0),
                                                                              ("webhook", "pending", 0)]
    reminder = json.loads(queued[0]["reminder"])
    assert reminder["item_id"] == str(item.id) and reminder["collection"] == "tasks"
    assert (reminder["rung"], reminder["deadline"], reminder["due"], reminder["addressed_to"]) == (
        "upcoming", "due", "2026-12-15", ["user:sara"])
    assert aware(queued[0]["next_attempt_at"]) == clock.now  # due as soon as it is raised
    # The same events again (a second runner, a retried batch) add nothing.
    notifications = service.recorder.select_notifications(1, 1000)
    with engine.begin() as conn:
        projection.handle(conn, [(n.id, service.mapper.to_domain_event(n)) for n in notifications])
    assert len(rows(engine)) == 2


def test_the_outbox_is_never_rebuilt_nor_reset_by_a_new_setup(service, clock, runner, projection, engine):
    raise_upcoming_reminder(service, clock)
    runner.catch_up(projection)
    with engine.begin() as conn:
        conn.execute(update(deliveries).values(status="delivered"))
    with pytest.raises(ValueError, match="never rebuilt"):
        runner.rebuild(projection)
    runner.setup()
    runner.catch_up(projection)
    assert {r["status"] for r in rows(engine)} == {"delivered"}


def test_reminders_raised_before_deliveries_were_set_up_are_not_sent(service, clock, engine, projection, store_env):
    raise_upcoming_reminder(service, clock)
    runner = ProjectionRunner(service, engine, [projection])
    runner.setup()  # first set up after that reminder: it starts at the head of the log
    runner.catch_up(projection)
    assert rows(engine) == []
    raise_upcoming_reminder(service, clock, title="Raised afterwards")
    runner.catch_up(projection)
    assert [json.loads(r["reminder"])["title"] for r in rows(engine)] == ["Raised afterwards"] * 2


# -- e-mail -----------------------------------------------------------------------------------------


def test_a_reminder_is_emailed_once_to_every_addressee_with_an_address(service, clock, runner, projection,
                                                                       engine, mailbox):
    box, port = mailbox
    service.grant_role("hana", "secretariat", actor=ADMIN)  # sara and hana have addresses; nobody else does
    item = raise_upcoming_reminder(service, clock, assignee=None, title="Catalogue bilateral agreements")
    runner.catch_up(projection)
    assert worker(engine, service, clock, email(port)).run_once() == {"delivered": 1}
    assert worker(engine, service, clock, email(port)).run_once() == {}
    [(envelope_to, message)] = box.messages
    assert sorted(envelope_to) == ["hana@pccsee.example", "sara@pccsee.example"]
    assert message["To"] == "hana@pccsee.example, sara@pccsee.example"
    assert message["From"] == "secretariat@pccsee.example"
    assert message["Subject"] == "Coming up: Catalogue bilateral agreements (due 2026-12-15)"
    [row] = rows(engine, "email")
    assert message["Message-ID"] == f"<{row['id']}@secretariat>"
    body = message.get_content()
    assert "Task: Catalogue bilateral agreements" in body and "Deadline: due, 2026-12-15" in body
    assert "Reminder: upcoming" in body and "Addressed to: role:secretariat" in body
    assert f"https://secretariat.pccsee.example/ui/tasks/{item.id}" in body
    assert (row["status"], row["attempts"], aware(row["delivered_at"])) == ("delivered", 1, clock.now)
    assert json.loads(row["recipients"]) == ["hana@pccsee.example", "sara@pccsee.example"]


def test_the_smtp_urls_credentials_sign_in_and_refused_addresses_are_noted_not_resent(
        service, clock, engine, mailbox):
    box, port = mailbox
    service.change_email("hana", "nobody@pccsee.example", actor=ADMIN)
    box.refuse.add("nobody@pccsee.example")
    deliveries.create(engine)
    queue(engine, 1, addressed_to=["user:sara", "user:hana"], at=clock.now)
    channel = email(port, f"smtp://secretariat:p%40ss%20word@127.0.0.1:{port}")
    assert worker(engine, service, clock, channel).run_once() == {"delivered": 1}
    assert box.logins == [(b"secretariat", b"p@ss word")]
    assert [to for to, _ in box.messages] == [["sara@pccsee.example"]]
    [row] = rows(engine, "email")
    assert row["status"] == "delivered" and "nobody@pccsee.example (550" in row["last_error"]


def test_an_smtp_server_that_defers_is_tried_again_later(service, clock, engine, mailbox):
    box, port = mailbox
    box.answers.append("451 4.3.0 Try again later")
    deliveries.create(engine)
    queue(engine, 1, at=clock.now)
    mail = worker(engine, service, clock, email(port))
    assert mail.run_once() == {"retrying": 1}
    [row] = rows(engine, "email")
    assert row["last_error"].startswith("SMTP 451") and aware(row["next_attempt_at"]) == clock.now + timedelta(
        seconds=30)
    clock.advance(seconds=30)
    assert mail.run_once() == {"delivered": 1}
    assert len(box.messages) == 1


def test_a_reminder_nobody_can_be_emailed_is_kept_as_no_recipients_and_can_be_retried(service, clock, engine,
                                                                                       mailbox):
    box, port = mailbox
    deliveries.create(engine)
    [reminder] = queue(engine, 1, addressed_to=["user:erik", "role:ewg", "user:ghost"], at=clock.now)
    mail = worker(engine, service, clock, email(port))
    assert mail.run_once() == {"no_recipients": 1}
    [row] = rows(engine, "email")
    assert (row["status"], row["attempts"]) == ("no_recipients", 0)
    assert "erik" in row["last_error"] and box.messages == []
    service.change_email("erik", "erik@pccsee.example", actor=ERIK)
    Outbox(engine).retry(delivery_id(reminder, "email"), OPERATOR, now=clock.now, by="cli:ops")
    assert mail.run_once() == {"delivered": 1}
    assert [to for to, _ in box.messages] == [["erik@pccsee.example"]]


# -- webhook ----------------------------------------------------------------------------------------


def test_a_webhook_that_fails_twice_is_retried_with_backoff_and_then_delivered_signed(service, clock, engine,
                                                                                      projection, receiver):
    receiver.statuses = [503, 500]
    deliveries.create(engine)
    [reminder] = queue(engine, 1, at=clock.now)
    started = clock.now
    hook = worker(engine, service, clock, webhook(receiver))
    assert hook.run_once() == {"retrying": 1}
    [row] = rows(engine, "webhook")
    assert (row["attempts"], aware(row["next_attempt_at"])) == (1, started + timedelta(seconds=30))
    assert row["last_error"].startswith("HTTP 503")
    clock.advance(seconds=29)
    assert hook.run_once() == {}  # not due yet
    clock.advance(seconds=1)
    assert hook.run_once() == {"retrying": 1}
    [row] = rows(engine, "webhook")
    assert (row["attempts"], aware(row["next_attempt_at"])) == (2, clock.now + timedelta(seconds=60))
    clock.advance(seconds=60)
    assert hook.run_once() == {"delivered": 1}
    [row] = rows(engine, "webhook")
    assert (row["status"], row["attempts"], aware(row["delivered_at"])) == ("delivered", 3, clock.now)
    assert row["last_error"] is None
    # Three tries of one delivery, each signed over its timestamp and exact body.
    assert receiver.ids() == {delivery_id(reminder, "webhook"): 3}
    for headers, body in receiver.posts:
        expected = hmac.new(SECRET.encode(), headers["secretariat-timestamp"].encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["secretariat-signature"], f"sha256={expected}")
        assert json.loads(body)["id"] == reminder and headers["content-type"] == "application/json"
    assert receiver.posts[-1][0]["secretariat-timestamp"] == str(int(clock.now.timestamp()))


def test_jitter_shortens_a_backoff_by_at_most_half(service, clock, engine, projection, receiver):
    receiver.always = 500
    deliveries.create(engine)
    queue(engine, 1, at=clock.now)
    worker(engine, service, clock, webhook(receiver), random=lambda: 0.0).run_once()
    [row] = rows(engine, "webhook")
    assert aware(row["next_attempt_at"]) == clock.now + timedelta(seconds=15)


def test_a_webhook_that_always_fails_is_failed_after_max_attempts_visible_and_retryable(
        service, clock, engine, runner, projection, receiver, store_env):
    receiver.always = 502
    queue(engine, 1, at=clock.now)
    hook = worker(engine, service, clock, webhook(receiver))
    outcomes = Counter()
    for _ in range(MAX_ATTEMPTS + 2):
        outcomes += hook.run_once()
        clock.advance(hours=1)
    assert outcomes == {"retrying": MAX_ATTEMPTS - 1, "failed": 1}
    assert len(receiver.posts) == MAX_ATTEMPTS
    api = create_api(service, ReadModels(engine_for(store_env), service.mapper.transcoder), runner,
                     token_key="k" * 48)
    with TestClient(api) as client:
        as_head = {"Authorization": f"Bearer {api.state.tokens.issue('hana')}"}
        listed = client.get("/deliveries", params={"status": "failed"}, headers=as_head)
        assert listed.status_code == 200, listed.text
        [failed] = listed.json()["deliveries"]
        assert listed.json()["total"] == 1
        assert (failed["status"], failed["attempts"], failed["channel"]) == ("failed", MAX_ATTEMPTS, "webhook")
        assert failed["last_error"].startswith("HTTP 502") and failed["reminder"]["title"] == "Task 0"
        retried = client.post(f"/deliveries/{failed['id']}/retry", headers=as_head)
        assert retried.status_code == 200, retried.text
        assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
        again = client.post(f"/deliveries/{failed['id']}/retry", headers=as_head)
        assert again.status_code == 409 and "pending" in again.json()["detail"]
    receiver.always = None
    assert hook.run_once() == {"delivered": 1}


# -- several workers --------------------------------------------------------------------------------


def test_two_workers_racing_over_200_due_rows_send_each_exactly_once(service, clock, store_env, receiver):
    engines = [engine_for(store_env, writer=True) for _ in range(2)]
    try:
        deliveries.create(engines[0])
        reminders = queue(engines[0], 200, at=clock.now)
        workers = [worker(e, service, clock, webhook(receiver), batch_size=25) for e in engines]
        results: list[Counter] = []
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def run(w: DeliveryWorker) -> None:
            start.wait()
            try:
                results.append(w.run_once())
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert receiver.ids() == {delivery_id(r, "webhook"): 1 for r in reminders}
        assert sum(results, Counter()) == {"delivered": 200}
        assert all(results), "both workers took a share"
        assert {r["status"] for r in rows(engines[0], "webhook")} == {"delivered"}
    finally:
        for e in engines:
            e.dispose()


class WorkerCrash(BaseException):
    """The process dies: nothing after it runs, no exception handler of ours sees it."""


class CrashBeforeSending(WebhookChannel):
    def send(self, delivery):
        raise WorkerCrash


class CrashAfterTheReceiverAcknowledged(WebhookChannel):
    def send(self, delivery):
        super().send(delivery)
        raise WorkerCrash


def test_a_row_claimed_by_a_worker_that_died_is_delivered_once_by_another_after_the_lease(
        service, clock, engine, projection, receiver):
    deliveries.create(engine)
    [reminder] = queue(engine, 1, at=clock.now)
    with pytest.raises(WorkerCrash):
        worker(engine, service, clock, CrashBeforeSending(receiver.url, SECRET)).run_once()
    survivor = worker(engine, service, clock, webhook(receiver))
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert survivor.run_once() == {}  # the dead worker's lease still holds
    clock.advance(seconds=2)
    assert survivor.run_once() == {"delivered": 1}
    assert survivor.run_once() == {}
    assert receiver.ids() == {delivery_id(reminder, "webhook"): 1}
    [row] = rows(engine, "webhook")
    assert (row["status"], row["attempts"], row["claimed_until"]) == ("delivered", 1, None)


def test_a_crash_after_the_receiver_acknowledged_repeats_the_delivery_under_the_same_id(
        service, clock, engine, projection, receiver):
    deliveries.create(engine)
    [reminder] = queue(engine, 1, at=clock.now)
    with pytest.raises(WorkerCrash):
        worker(engine, service, clock, CrashAfterTheReceiverAcknowledged(receiver.url, SECRET)).run_once()
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert worker(engine, service, clock, webhook(receiver)).run_once() == {"delivered": 1}
    # The documented duplicate: the receiver sees it twice, with the one id it de-duplicates by.
    assert receiver.ids() == {delivery_id(reminder, "webhook"): 2}


# -- who sees which deliveries, and metrics ------------------------------------------------------------


def test_heads_and_auditors_see_the_deliveries_of_what_they_read_only_a_head_retries_and_admins_neither(
        service, clock, engine, runner, receiver, store_env):
    receiver.always = 500
    queue(engine, 2, at=clock.now)
    [request] = queue(engine, 1, at=clock.now, of=SupportRequest, title="AL financial support request", first=2000)
    worker(engine, service, clock, webhook(receiver), max_attempts=1).run_once()  # webhook rows: failed
    api = create_api(service, ReadModels(engine_for(store_env), service.mapper.transcoder), runner,
                     token_key="k" * 48)
    with TestClient(api) as client:
        def as_(name: str) -> dict:
            return {"Authorization": f"Bearer {api.state.tokens.issue(name)}"}

        for reader in ("hana", "audrey"):  # both read every task, mandate and support request
            page = client.get("/deliveries", params={"limit": 2, "offset": 1}, headers=as_(reader))
            assert page.status_code == 200, page.text
            assert page.json()["total"] == 6 and len(page.json()["deliveries"]) == 2
        listed = client.get("/deliveries", params={"channel": "webhook"}, headers=as_("audrey")).json()["deliveries"]
        assert [d["reminder"]["title"] for d in listed] == ["AL financial support request", "Task 1", "Task 0"]
        # An admin manages users and reads no item: not even a delivery's title, id or deadline.
        for outsider in ("admin", "alba", "sara", "erik"):
            refused = client.get("/deliveries", headers=as_(outsider))
            assert refused.status_code == 403 and refused.json()["detail"].endswith("head, auditor")
            assert "support request" not in refused.text
        request_id = delivery_id(request, "webhook")
        for refused_writer in ("audrey", "admin", "alba"):
            refused = client.post(f"/deliveries/{request_id}/retry", headers=as_(refused_writer))
            assert refused.status_code == 403, refused.text
        retried = client.post(f"/deliveries/{request_id}/retry", headers=as_("hana"))
        assert retried.status_code == 200, retried.text
        assert (retried.json()["status"], retried.json()["reminder"]["collection"]) == ("pending", "support-requests")
        assert client.post("/deliveries/no-such-id/retry", headers=as_("hana")).status_code == 404
        assert client.get("/deliveries", params={"status": "sent"}, headers=as_("hana")).status_code == 422
        assert client.get("/deliveries").status_code == 401

        # Counts only, no reminder: an admin still watches the outbox's health.
        metrics = client.get("/metrics", headers=as_("admin")).text
        assert 'secretariat_deliveries{channel="webhook",status="failed"} 2.0' in metrics
        assert 'secretariat_deliveries{channel="webhook",status="pending"} 1.0' in metrics
        assert 'secretariat_deliveries{channel="webhook",status="delivered"} 0.0' in metrics
        assert 'secretariat_deliveries{channel="email",status="pending"} 3.0' in metrics  # no worker has e-mail
        assert 'secretariat_deliveries{channel="email",status="expired"} 0.0' in metrics
        assert 'secretariat_delivery_attempts_total{channel="webhook",outcome="failed"}' in metrics
        assert "support request" not in metrics


def test_the_outbox_lists_and_retries_within_a_scope_only(service, clock, engine, runner):
    from scheduler.outbox import DeliveryScope

    deliveries.create(engine, checkfirst=True)
    [task] = queue(engine, 1, at=clock.now)
    [request] = queue(engine, 1, at=clock.now, of=SupportRequest, first=2000)
    with engine.begin() as conn:
        conn.execute(update(deliveries).values(status="failed"))
    outbox, tasks_only = Outbox(engine), DeliveryScope(("tasks",))
    listed, total = outbox.list_deliveries(tasks_only)
    assert {d["reminder_id"] for d in listed} == {task} and total == 2  # its e-mail and webhook rows
    assert outbox.list_deliveries(DeliveryScope(())) == ([], 0)
    with pytest.raises(NotFound):  # one outside the scope does not exist for the caller
        outbox.retry(delivery_id(request, "email"), tasks_only, now=clock.now, by="hana")
    with pytest.raises(NotFound):
        outbox.get(delivery_id(request, "email"), tasks_only)
    assert rows(engine, "email")[1]["status"] == "failed"
    assert outbox.retry(delivery_id(task, "email"), tasks_only, now=clock.now, by="hana")["status"] == "pending"
    assert outbox.list_deliveries(OPERATOR)[1] == 4


# -- channels configured in some processes and not others -------------------------------------------------


def test_a_process_without_channel_settings_queues_every_channel_and_each_worker_sends_its_own(
        service, clock, store_env, mailbox, receiver):
    """`secretariat project` (or `schedule`) started without SMTP or webhook settings follows the log with
    everyone: it queues the reminders it passes, for every channel, so none is skipped for good."""
    from secretariat.bootstrap import build_projections

    box, port = mailbox
    read_models, runner = build_projections(service, store_env)  # settings name no channel: it takes none
    try:
        raise_upcoming_reminder(service, clock)
        [outbox_view] = [p for p in runner.projections if p.name == "deliveries"]
        runner.catch_up(outbox_view)
        assert [(r["channel"], r["status"]) for r in rows(runner.engine)] == [("email", "pending"),
                                                                              ("webhook", "pending")]
        # A worker sends its own channel's rows only; the other's wait for one that has it, in sight.
        assert worker(runner.engine, service, clock, email(port)).run_once() == {"delivered": 1}
        assert len(box.messages) == 1 and receiver.posts == []
        waiting, _ = Outbox(runner.engine).list_deliveries(OPERATOR, status="pending")
        assert [(d["channel"], d["attempts"]) for d in waiting] == [("webhook", 0)]
        clock.advance(hours=3)  # the webhook configured in a process that starts later, within MAX_AGE
        assert worker(runner.engine, service, clock, webhook(receiver)).run_once() == {"delivered": 1}
        assert [(r["channel"], r["status"]) for r in rows(runner.engine)] == [("email", "delivered"),
                                                                              ("webhook", "delivered")]
        assert len(box.messages) == 1 and len(receiver.posts) == 1
    finally:
        runner.engine.dispose()
        read_models.engine.dispose()


def test_a_row_waiting_longer_than_max_age_is_expired_by_the_first_worker_with_its_channel_and_retryable(
        service, clock, engine, runner, receiver):
    started = clock.now
    [old] = queue(engine, 1, at=started)
    [recent] = queue(engine, 1, at=started + timedelta(hours=2), first=2000)
    clock.now = started + MAX_AGE + timedelta(hours=1)  # the webhook is configured only now
    hook = worker(engine, service, clock, webhook(receiver))
    assert hook.run_once() == {"expired": 1, "delivered": 1}
    assert receiver.ids() == {delivery_id(recent, "webhook"): 1}
    old_row, recent_row = rows(engine, "webhook")
    assert (old_row["status"], old_row["attempts"]) == ("expired", 0)
    assert old_row["last_error"].startswith("not sent: its try was due more than 24 h before")
    assert recent_row["status"] == "delivered"
    assert {r["status"] for r in rows(engine, "email")} == {"pending"}  # not its channel: left as they are
    assert hook.run_once() == {}
    # Visible and retryable: a retry is due now, so it is sent however old its reminder.
    Outbox(engine).retry(delivery_id(old, "webhook"), OPERATOR, now=clock.now, by="hana")
    assert hook.run_once() == {"delivered": 1}
    assert receiver.ids() == {delivery_id(recent, "webhook"): 1, delivery_id(old, "webhook"): 1}


def test_a_store_whose_outbox_is_at_the_unreleased_version_1_is_refused_not_rebuilt(service, engine, runner):
    from projections import tracking

    with engine.begin() as conn:
        tracking.start_afresh(conn, "deliveries", 1)
    with pytest.raises(ValueError, match="never rebuilt"):
        runner.setup()


# -- wired as the scheduler runs it ---------------------------------------------------------------------


def test_a_scheduler_tick_raises_queues_and_emails_a_reminder_once(service, clock, engine, store_env, mailbox):
    from projections.items import ItemsProjection
    from projections.reminders import RemindersProjection
    from scheduler.ticker import ReminderScheduler

    box, port = mailbox
    deliveries_view = DeliveriesProjection()
    runner = ProjectionRunner(service, engine, [ItemsProjection(service.mapper.transcoder), RemindersProjection(),
                                                deliveries_view])
    runner.setup()
    read_models = ReadModels(engine_for(store_env), service.mapper.transcoder)
    mail = worker(engine, service, clock, email(port))
    ticker = ReminderScheduler(service, read_models, runner, deliver=mail.run_once)
    service.create_task(ERIK, task_values(assignee="sara", due=date(2026, 12, 15), title="Wired"))
    ticker.tick()
    assert box.messages == []  # nothing due yet
    clock.now = datetime(2026, 12, 8, 8, 0, tzinfo=timezone.utc)
    assert [r["rung"] for r in ticker.tick()] == ["upcoming"]
    ticker.tick()
    assert [(to, m["Subject"]) for to, m in box.messages] == [(["sara@pccsee.example"],
                                                               "Coming up: Wired (due 2026-12-15)")]
    # No worker has the webhook: its row waits, pending, for one that has it.
    assert [(r["status"], r["attempts"]) for r in rows(engine, "webhook")] == [("pending", 0)]
    read_models.engine.dispose()
