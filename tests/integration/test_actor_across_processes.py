"""The actor a token names is read as the store has the user now: a change made by another application
(another server process) counts on the very next request, though each keeps its own cache of users."""

from __future__ import annotations

import pytest

from domain.actor import Actor
from tests.factories import ADMIN, SARA


def test_a_role_revoked_by_another_process_is_gone_on_the_next_request(two_applications):
    serving, other = two_applications
    access = serving.user("sara").generation_pair()[0]
    assert serving.actor_holding("sara", access) == SARA  # sara is now in this process's cache
    other.revoke_role("sara", "secretariat", actor=ADMIN)
    assert serving.actor_holding("sara", access) == Actor("sara", frozenset())
    other.grant_role("sara", "secretariat", actor=ADMIN)
    assert serving.actor_holding("sara", access) == SARA


@pytest.mark.parametrize("end", [
    pytest.param(lambda s: s.sign_out("sara", everywhere=True), id="sign-out everywhere"),
    pytest.param(lambda s: s.deactivate_user("sara", "Left the Secretariat", actor=ADMIN), id="deactivation"),
    pytest.param(lambda s: s.change_password("sara", "a reset by the admin", actor=ADMIN), id="admin reset"),
])
def test_a_token_ended_by_another_process_names_nobody_on_the_next_request(two_applications, end):
    serving, other = two_applications
    access, calendar = serving.user("sara").generation_pair()
    assert serving.actor_holding("sara", access) == SARA
    assert serving.actor_holding("sara", calendar, calendar=True) == SARA
    end(other)
    assert serving.actor_holding("sara", access) is None
    assert serving.actor_holding("sara", calendar, calendar=True) is None

