"""A user's token generations: what ends which tokens, and the lock-out fact, on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Forbidden, ValidationFailed
from tests.factories import ADMIN, SARA, register_cast


@pytest.fixture
def service(service):
    register_cast(service)
    return service


def generations(service, username="sara") -> tuple[int, int]:
    return service.user(username).generation_pair()


def test_a_token_of_the_current_generation_names_the_user_and_an_older_one_nothing(service):
    access, calendar = generations(service)
    assert service.actor_holding("sara", access) == SARA
    assert service.actor_holding("sara", calendar, calendar=True) == SARA
    assert service.actor_holding("sara", access + 1) is None
    assert service.actor_holding("nobody", 0) is None


@pytest.mark.parametrize("end_tokens", [
    pytest.param(lambda s: s.change_password("sara", "a much longer passphrase", actor=SARA, current_password="sara"),
                 id="own password change"),
    pytest.param(lambda s: s.change_password("sara", "a reset by the admin", actor=ADMIN), id="admin reset"),
    pytest.param(lambda s: s.sign_out("sara", everywhere=True), id="sign-out everywhere"),
    pytest.param(lambda s: s.deactivate_user("sara", "Left the Secretariat", actor=ADMIN), id="deactivation"),
])
def test_each_of_these_ends_every_access_token_and_calendar_url(service, end_tokens):
    access, calendar = generations(service)
    end_tokens(service)
    assert service.actor_holding("sara", access) is None
    assert service.actor_holding("sara", calendar, calendar=True) is None


def test_signing_out_of_the_pages_ends_sessions_and_access_tokens_but_not_calendar_urls(service):
    access, calendar = generations(service)
    service.sign_out("sara", everywhere=False)
    assert service.actor_holding("sara", access) is None
    assert service.actor_holding("sara", calendar, calendar=True) == SARA
    assert service.actor_holding("sara", generations(service)[0]) == SARA  # a new sign-in works


def test_a_deactivated_user_cannot_sign_in_until_reactivated_and_old_tokens_stay_ended(service):
    access, _ = generations(service)
    service.deactivate_user("sara", "On leave", actor=ADMIN)
    assert service.authenticate("sara", "sara") is None and service.actor_named("sara") is None
    with pytest.raises(Forbidden):
        service.deactivate_user("erik", "no", actor=SARA)
    service.reactivate_user("sara", "Back from leave", actor=ADMIN)
    assert service.authenticate("sara", "sara") == SARA
    assert service.actor_holding("sara", access) is None


def test_changing_your_own_password_needs_the_current_one(service):
    with pytest.raises(ValidationFailed, match="current_password"):
        service.change_password("sara", "a much longer passphrase", actor=SARA)
    with pytest.raises(Forbidden, match="current password is wrong"):
        service.change_password("sara", "a much longer passphrase", actor=SARA, current_password="wrong")
    assert service.authenticate("sara", "sara") == SARA  # unchanged


def test_a_lock_out_is_an_event_on_the_user_with_its_reason_and_end(service, clock):
    until = clock() + timedelta(minutes=15)
    assert service.record_lock_out("sara", until, "10 wrong passwords", actor="sign-in-throttle")
    assert not service.record_lock_out("nobody", until, "10 wrong passwords", actor="sign-in-throttle")
    last = list(service.events.get(service.user("sara").id))[-1]
    assert (type(last).__qualname__, last.actor, last.reason, last.until) == (
        "User.LockedOut", "sign-in-throttle", "10 wrong passwords", until)
