"""Delivery's rules that need no server: who a reminder reaches, addresses, backoff, SMTP URLs, signatures, settings."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.errors import Forbidden, RuleBroken, ValidationFailed
from domain.user import User
from scheduler.channels import SmtpServer, signature
from scheduler.delivery import backoff
from secretariat.settings import Settings
from tests.factories import ADMIN, HANA, SARA, register_cast

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
    assert (type(last).__name__, last.actor, last.email) == ("EmailChanged", "admin", "s.k@pccsee.example")
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
