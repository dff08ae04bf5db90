"""Delivery's rules that need no server: who a reminder reaches, addresses, backoff, SMTP URLs, signatures, settings,
who sees which deliveries, and the e-mail's Subject."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from domain.actor import Actor
from domain.application import AGGREGATES
from domain.errors import Forbidden, RuleBroken, ValidationFailed
from domain.personal_data import reveal
from domain.user import User
from scheduler import outbox
from scheduler.channels import Delivery, EmailChannel, SmtpServer, WebhookChannel, signature
from scheduler.delivery import backoff
from scheduler.outbox import CHANNELS, DeliveriesProjection, delivery_scope
from secretariat.settings import Settings
from tests.factories import ADMIN, ALBA, AUDREY, ERIK, HANA, SARA, register_cast

LONG_SECRET = "s" * 32


@pytest.fixture
def service(memory_service):
    register_cast(memory_service)
    return memory_service


def names(users) -> list[str]:
    return [u.username for u in users]


def test_addressees_resolve_to_the_named_user_and_everyone_holding_the_role_each_once(service):
    assert names(service.recipients(["user:sara"])) == ["sara"]
    assert names(service.recipients(["role:head", "user:hana", "user:ghost"])) == ["hana"]
    service.grant_role("erik", "secretariat", actor=ADMIN)  # seen at once: this process changed it
    assert names(service.recipients(["role:secretariat", "user:alba"])) == ["alba", "erik", "sara"]
    assert service.recipients(["role:nobody-holds-it", "user:ghost", "oddity"]) == []


def test_a_user_changes_their_own_address_and_an_admin_anyones_each_change_an_audited_event(service):
    service.change_email("sara", "sara@pccsee.example", actor=SARA)
    service.change_email("sara", "s.k@pccsee.example", actor=ADMIN)
    assert service.recipients(["user:sara"])[0].email == "s.k@pccsee.example"
    last = list(service.events.get(User.id_for("sara")))[-1]
    # The event holds the address as personal data (stored encrypted under sara's key: domain/personal_data.py).
    assert (type(last).__name__, last.actor, reveal(last.email)) == ("EmailChanged", "admin", "s.k@pccsee.example")
    with pytest.raises(Forbidden):
        service.change_email("sara", "hana@pccsee.example", actor=HANA)
    with pytest.raises(RuleBroken, match="already"):
        service.change_email("sara", "s.k@pccsee.example", actor=SARA)
    service.change_email("sara", None, actor=SARA)
    assert service.user("sara").email is None


@pytest.mark.parametrize("address", ["sara", "sara@", "@pccsee.example", "sara@pccsee.example\nBcc: x@y",
                                     "sara @pccsee.example", "a@b@c"])
def test_an_address_that_is_not_one_is_refused(service, address):
    with pytest.raises(ValidationFailed):
        service.change_email("sara", address, actor=SARA)


def test_backoff_doubles_from_30_seconds_to_at_most_an_hour_and_jitter_takes_up_to_half():
    assert [backoff(n, lambda: 1.0) for n in (1, 2, 3, 8, 20)] == [
        timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120), timedelta(hours=1), timedelta(hours=1)]
    assert backoff(1, lambda: 0.0) == timedelta(seconds=15)
    assert timedelta(seconds=15) <= backoff(1) <= timedelta(seconds=30)


def test_smtp_urls_name_the_security_port_and_credentials():
    assert SmtpServer.from_url("smtp://mail.example") == SmtpServer("mail.example", 25, "none")
    assert SmtpServer.from_url("smtp+starttls://ann:p%40ss@mail.example") == SmtpServer(
        "mail.example", 587, "starttls", "ann", "p@ss")
    assert SmtpServer.from_url("smtps://mail.example:2465").port == 2465
    assert "p@ss" not in repr(SmtpServer.from_url("smtps://ann:p%40ss@mail.example"))


def test_the_webhook_signature_is_an_hmac_of_the_timestamp_and_body():
    expected = hmac.new(b"key", b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest()
    assert signature(b"key", "1700000000", b'{"a":1}') == f"sha256={expected}"


def test_a_webhook_needs_a_secret_of_32_bytes_and_a_bad_smtp_url_is_refused_without_echoing_it(monkeypatch):
    monkeypatch.setenv("SECRETARIAT_WEBHOOK_URL", "https://hooks.example/secretariat")
    with pytest.raises(ValidationError, match="SECRETARIAT_WEBHOOK_SECRET"):
        Settings()
    monkeypatch.setenv("SECRETARIAT_WEBHOOK_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings()
    monkeypatch.setenv("SECRETARIAT_WEBHOOK_SECRET", LONG_SECRET)
    assert Settings().webhook_secret.get_secret_value() == LONG_SECRET
    monkeypatch.setenv("SECRETARIAT_WEBHOOK_URL", "ftp://hooks.example")
    with pytest.raises(ValidationError, match="http"):
        Settings()
    monkeypatch.delenv("SECRETARIAT_WEBHOOK_URL")
    monkeypatch.setenv("SECRETARIAT_SMTP_URL", "smtpx://ann:hunter2@mail.example")
    with pytest.raises(ValidationError, match="smtp://") as refused:
        Settings()
    assert "hunter2" not in str(refused.value)


def test_delivery_settings_default_to_no_channel_and_eight_tries(monkeypatch):
    settings = Settings()
    assert (settings.smtp_url, settings.webhook_url, settings.mail_from, settings.delivery_max_attempts) == (
        None, None, "secretariat@localhost", 8)
    monkeypatch.setenv("SECRETARIAT_SMTP_URL", "smtp+starttls://ann:hunter2@mail.example:587")
    assert "hunter2" not in repr(Settings())


# -- who sees which deliveries ---------------------------------------------------------------------


def test_heads_and_auditors_see_the_deliveries_of_every_collection_they_read_in_full_and_only_heads_retry():
    everything = tuple(AGGREGATES)
    for reader in (HANA, AUDREY):
        assert delivery_scope(reader).collections == everything
    assert delivery_scope(HANA, retry=True).collections == everything
    with pytest.raises(Forbidden, match="retrying a delivery needs one of: head"):
        delivery_scope(AUDREY, retry=True)
    # An admin manages users: a delivery shows its item's title, id and deadline, so none; nor do others.
    for outsider in (ADMIN, ALBA, SARA, ERIK):
        with pytest.raises(Forbidden, match="reading deliveries needs one of: head, auditor"):
            delivery_scope(outsider)
        with pytest.raises(Forbidden):
            delivery_scope(outsider, retry=True)
    # A head who also administers reads as a head.
    assert delivery_scope(Actor("root", frozenset({"admin", "head"}))).collections == everything


def test_a_reader_of_some_items_of_a_collection_sees_none_of_its_deliveries(monkeypatch):
    """Deliveries have no Party to filter by: a liaison's own-Party scope of support requests is not
    the whole collection, so were liaisons given deliveries they would see none of those."""
    monkeypatch.setattr(outbox, "DELIVERY_READERS", ("party",))
    assert AGGREGATES["support-requests"].workflow.read_scope(ALBA) == {"party": "AL"}
    assert delivery_scope(ALBA).collections == ()


def test_every_reminder_is_queued_for_every_channel_there_is_whatever_the_settings():
    assert CHANNELS == (EmailChannel.name, WebhookChannel.name)
    assert DeliveriesProjection().channels == CHANNELS


# -- the e-mail ------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["AL financial\nsupport request", "AL financial\r\n support request",
                                   "AL financial \t\x0b\x00 support\u2028request", " AL financial support request\n"])
def test_a_title_with_line_breaks_or_control_characters_makes_a_one_line_subject(title):
    reminder = {"rung": "overdue", "title": title, "deadline": "due", "due": "2026-12-15", "collection":
                "support-requests", "item_id": "i", "addressed_to": ["role:secretariat"]}
    channel = EmailChannel(SmtpServer("mail.example", 25, "none"), "secretariat@pccsee.example")
    message = channel.message(Delivery("d", reminder, ["sara@pccsee.example"],
                                       datetime(2026, 12, 16, 8, tzinfo=timezone.utc)))
    assert message["Subject"] == "Overdue: AL financial support request (due 2026-12-15)"
    assert b"\nSubject: Overdue: AL financial support request (due 2026-12-15)\n" in message.as_bytes()
    assert "AL financial" in message.get_content()  # the body keeps the title as it is
