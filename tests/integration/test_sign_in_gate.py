"""The sign-in gate over the real application: returning pairs wait for a slot, strangers are told to come back."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher
from starlette.requests import Request

from api.sign_in import SignInGate, SignInRefused
from api.sign_in_throttle import SignInThrottle
from tests.factories import register_cast


def request_from(address: str) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/auth/token", "headers": [], "client": (address, 1)})


@pytest.fixture
def service(service):
    register_cast(service)
    return service


def test_a_returning_pair_waits_for_the_busy_slot_and_a_stranger_is_sent_away(service, clock):
    gate = SignInGate(SignInThrottle(), max_concurrent=1, wait_seconds=60)

    async def scenario():
        assert (await gate.sign_in(request_from("192.0.2.1"), service, "sara", "sara")).username == "sara"
        assert (await gate.sign_in(request_from("192.0.2.2"), service, "erik", "erik")).username == "erik"
        # Sara's hash now takes a while to check, so her next try holds the only slot.
        sara = service.user("sara")
        sara.change_password(PasswordHasher(time_cost=8, memory_cost=65536, parallelism=1).hash("slow"),
                             actor="admin", now=clock())
        service.save(sara)
        holding = asyncio.create_task(gate.sign_in(request_from("192.0.2.1"), service, "sara", "wrong"))
        while gate._slots is None or not gate._slots.locked():
            await asyncio.sleep(0.01)
        with pytest.raises(SignInRefused) as refused:
            await gate.sign_in(request_from("192.0.2.3"), service, "hana", "hana")
        assert refused.value.status_code == 503 and refused.value.headers == {"Retry-After": "1"}
        erik = await gate.sign_in(request_from("192.0.2.2"), service, "erik", "erik")  # waits, then goes
        assert erik.username == "erik" and await holding is None

    # In a thread of its own: the browser tests' session (Playwright's sync API) keeps an event loop
    # running in this one when the whole suite runs, and asyncio.run refuses to start beside it.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, scenario()).result()
