"""The parts `serve`'s follower process talks to its workers with: the wake channel and the published counters."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from projections.runner import Stats
from scheduler.ticker import TickStats
from secretariat.follower_stats import PublishedStats, StatsPublisher
from secretariat.wake_channel import WAKE_SOCKET, WakeListener, WakeSender

BOUND = 10.0  # seconds: a bound on waiting for a datagram on a busy machine, not a timing claim


def test_a_workers_send_wakes_the_listening_follower(tmp_path: Path):
    woken = threading.Event()
    listener = WakeListener(tmp_path / WAKE_SOCKET, woken.set)
    sender = WakeSender(tmp_path / WAKE_SOCKET)
    try:
        sender.send()
        assert woken.wait(BOUND)
        assert (tmp_path / WAKE_SOCKET).stat().st_mode & 0o077 == 0  # only serve's user may wake it
    finally:
        sender.close()
        listener.close()
    assert not (tmp_path / WAKE_SOCKET).exists()


def test_a_request_waiting_for_the_views_hurries_the_follower_and_a_command_only_wakes_it(tmp_path: Path):
    woken, hurried = threading.Event(), threading.Event()
    listener = WakeListener(tmp_path / WAKE_SOCKET, woken.set, hurried.set)
    sender = WakeSender(tmp_path / WAKE_SOCKET)
    try:
        sender.send()
        assert woken.wait(BOUND)
        assert not hurried.is_set()
        woken.clear()
        sender.hurry()
        assert hurried.wait(BOUND)
        assert not woken.is_set()  # the follower's `hurry` wakes it too (ProjectionRunner.hurry)
    finally:
        sender.close()
        listener.close()


def test_sending_with_no_follower_listening_neither_fails_nor_waits(tmp_path: Path):
    sender = WakeSender(tmp_path / WAKE_SOCKET)
    for _ in range(10_000):  # more than any socket buffer holds, were a follower bound and stuck
        sender.send()
    sender.close()


def test_a_follower_started_again_takes_the_place_of_one_that_crashed(tmp_path: Path):
    (tmp_path / WAKE_SOCKET).write_bytes(b"")  # what a killed follower leaves behind
    woken = threading.Event()
    listener = WakeListener(tmp_path / WAKE_SOCKET, woken.set)
    try:
        WakeSender(tmp_path / WAKE_SOCKET).send()
        assert woken.wait(BOUND)
    finally:
        listener.close()


def test_a_worker_reads_the_counters_the_follower_published(tmp_path: Path):
    runner = SimpleNamespace(stats={"items": Stats(events=12, batches=3, last_batch_seconds=0.01,
                                                   total_batch_seconds=0.05)})
    ticks = TickStats(ticks=4, raised=2)
    published = PublishedStats(tmp_path)
    assert published.projections() == {} and published.scheduler() == TickStats()  # nothing published yet
    publisher = StatsPublisher(tmp_path, runner, ticks)
    publisher.close()  # publishes once more at close
    assert published.projections() == {"items": runner.stats["items"]}
    assert published.scheduler() == ticks
    assert isinstance(published.delivery_attempts(), dict)
