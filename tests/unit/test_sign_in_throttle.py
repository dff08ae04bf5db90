"""The sign-in throttle: back-off, lock-out, known pairs and bounded memory, on a clock moved by hand."""

from __future__ import annotations

from api.sign_in_throttle import Attempt, Refusal, SignInThrottle


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: SignInThrottle, username: str, address: str):
    attempt = throttle.admit(username, address)
    assert isinstance(attempt, Attempt), attempt
    return throttle.failed(attempt)


def test_after_the_free_failures_each_wrong_password_doubles_the_wait():
    clock = Ticks()
    throttle = SignInThrottle(clock=clock)
    waits = []
    for _ in range(7):
        fail(throttle, "sara", "198.51.100.7")
        refusal = throttle.admit("sara", "198.51.100.7")
        waits.append(refusal.retry_after if isinstance(refusal, Refusal) else 0)
        if isinstance(refusal, Attempt):
            throttle.abandoned(refusal)
        clock.now += waits[-1]
    assert waits == [0, 0, 0, 1, 2, 4, 8]


def test_repeated_failures_lock_the_username_out_for_every_new_address_and_then_let_go():
    clock = Ticks()
    throttle = SignInThrottle(lockout_failures=5, lockout_seconds=900, clock=clock)
    lock_outs = []
    for n in range(5):
        clock.now += 60  # past any back-off
        lock_outs += fail(throttle, "hana", f"203.0.113.{n}")
    assert [(lo.kind, lo.username, lo.seconds) for lo in lock_outs] == [("username", "hana", 900)]
    refusal = throttle.admit("hana", "192.0.2.99")
    assert isinstance(refusal, Refusal) and refusal.locked_out and 0 < refusal.retry_after <= 900
    clock.now += 901
    assert isinstance(throttle.admit("hana", "192.0.2.99"), Attempt)


def test_an_address_guessing_many_usernames_is_slowed_and_locked_out():
    clock = Ticks()
    throttle = SignInThrottle(lockout_failures=4, clock=clock)  # an address: 20
    kinds = []
    for n in range(20):
        clock.now += 400
        kinds += [lo.kind for lo in fail(throttle, f"user{n}", "198.51.100.9")]
    assert kinds == ["address"]
    assert isinstance(throttle.admit("someone-else", "198.51.100.9"), Refusal)
    assert isinstance(throttle.admit("someone-else", "198.51.100.10"), Attempt)


def test_a_pair_that_signed_in_before_is_not_locked_out_by_guesses_from_elsewhere():
    clock = Ticks()
    throttle = SignInThrottle(lockout_failures=3, clock=clock)
    throttle.succeeded(throttle.admit("sara", "192.0.2.1"))
    for n in range(3):
        clock.now += 60
        fail(throttle, "sara", f"203.0.113.{n}")
    assert isinstance(throttle.admit("sara", "203.0.113.77"), Refusal)  # the username is locked for strangers
    attempt = throttle.admit("sara", "192.0.2.1")
    assert isinstance(attempt, Attempt) and attempt.known
    # ...but her own address still answers to its own count.
    throttle.abandoned(attempt)
    for _ in range(3):
        clock.now += 60
        fail(throttle, "sara", "192.0.2.1")
    assert isinstance(throttle.admit("sara", "192.0.2.1"), Refusal)


def test_a_key_with_failures_gets_one_try_at_a_time():
    throttle = SignInThrottle(clock=Ticks())
    fail(throttle, "erik", "192.0.2.5")
    first = throttle.admit("erik", "192.0.2.5")
    assert isinstance(first, Attempt)
    assert throttle.admit("erik", "192.0.2.5") == Refusal(1, False)
    throttle.abandoned(first)
    assert isinstance(throttle.admit("erik", "192.0.2.5"), Attempt)


def test_memory_is_bounded_by_evicting_the_oldest_keys():
    throttle = SignInThrottle(capacity=100, clock=Ticks())
    for n in range(1000):
        fail(throttle, f"u{n}", f"10.0.{n // 256}.{n % 256}")
        throttle.succeeded(throttle.admit(f"v{n}", "192.0.2.1"))
    assert len(throttle._records) <= 100 and len(throttle._known) <= 100


def test_an_ipv6_client_counts_by_its_slash_64_so_rotating_addresses_buys_nothing():
    clock = Ticks()
    throttle = SignInThrottle(lockout_failures=4, clock=clock)  # an address: 20
    kinds = []
    for n in range(20):
        clock.now += 400
        kinds += [lo.kind for lo in fail(throttle, f"user{n}", f"2001:db8:0:7::{n + 1:x}")]
    assert kinds == ["address"]
    assert isinstance(throttle.admit("someone-else", "2001:db8:0:7:ffff::1"), Refusal)
    assert isinstance(throttle.admit("someone-else", "2001:db8:0:8::1"), Attempt)  # the next /64 is another client


def test_an_ipv4_mapped_ipv6_peer_counts_as_its_ipv4_address():
    clock = Ticks()
    throttle = SignInThrottle(lockout_failures=4, clock=clock)
    for n in range(20):
        clock.now += 400
        fail(throttle, f"user{n}", "::ffff:198.51.100.9")
    assert isinstance(throttle.admit("someone-else", "198.51.100.9"), Refusal)
    assert isinstance(throttle.admit("someone-else", "::ffff:198.51.100.10"), Attempt)
