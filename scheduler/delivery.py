"""Sends what waits in the deliveries outbox, with retries, so that no reminder is lost or sent twice.

Each row is claimed with a lease before it is sent (see `Outbox.claim`), so any number of
workers, in any number of processes, never send one row at the same time; a worker that dies
holding a lease only delays the row until the lease runs out. A row is marked delivered once
the receiver acknowledged it; a failed try is retried after an exponential backoff with
jitter, up to `max_attempts`, and is then 'failed': kept, visible and retryable.

A worker sends the rows of its own channels only (rows of the others wait, 'pending', for a
worker that has them); a row whose try has been due for more than `max_age` (its channel was
configured later, or no worker ran for that long) is marked 'expired', not sent late: visible
and retryable too.

One duplicate remains possible, by nature: a crash after the receiver acknowledged a message
and before the row was marked sends it again once the lease runs out. Receivers de-duplicate
by the delivery id (the webhook's `Secretariat-Delivery` header, the e-mail's Message-ID).
"""

from __future__ import annotations

import json
import logging
import random as _random
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import Engine

from scheduler.channels import Channel, Delivery, DeliveryFailed
from scheduler.outbox import Claimed, Outbox

log = logging.getLogger("secretariat.delivery")

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(minutes=5)  # far beyond a send's timeouts, so a live worker never loses its claim mid-send
# Reminders are raised daily at most per rung: one more than a day late says "due tomorrow" of today's
# deadline, or comes after the next rung's; the inbox holds it anyway, and a head may retry it.
MAX_AGE = timedelta(hours=24)


def backoff(attempt: int, random: Callable[[], float] = _random.random) -> timedelta:
    """The wait after the `attempt`-th failed try: 30 s · 2^(attempt-1), at most an hour, less up to half
    at random, so that many rows failing together (a receiver down) do not all come back at once."""
    full = min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_CAP)
    return full * (0.5 + random() / 2)


class AttemptCounts:
    """Tries by channel and outcome in this process, for the /metrics counter."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, channel: str, outcome: str) -> None:
        with self._lock:
            self._counts[(channel, outcome)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)


attempt_counts = AttemptCounts()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DeliveryWorker:
    def __init__(self, engine: Engine, channels: Mapping[str, Channel] | Iterable[Channel], *,
                 recipients: Callable[[list[str]], list[Any]], clock: Callable[[], datetime] = utc_now,
                 max_attempts: int = 8, lease: timedelta = LEASE, batch_size: int = 100,
                 max_age: timedelta = MAX_AGE, random: Callable[[], float] = _random.random) -> None:
        """`engine`: a writer engine on the outbox's database; `channels`: the configured ones, whose
        rows this worker sends; `recipients`: addressees -> users (with `username` and `email`), e.g.
        the application's `recipients`; `clock`: now, aware; `max_age`: how long past its due try a
        row may still be sent (older ones are 'expired')."""
        self.outbox = Outbox(engine)
        found = channels.values() if isinstance(channels, Mapping) else channels
        self.channels: dict[str, Channel] = {c.name: c for c in found}
        self.recipients = recipients
        self.clock = clock
        self.max_attempts = max_attempts
        self.lease = lease
        self.batch_size = batch_size
        self.max_age = max_age
        self.random = random

    def run_once(self) -> Counter[str]:
        """Try every row due now; how many ended in each status ('delivered', 'retrying', ...)."""
        outcomes: Counter[str] = Counter()
        if not self.channels:
            return outcomes
        # Not tries (the attempts counter leaves them out): /metrics' gauge shows them by channel.
        expired = self.outbox.expire(self.channels, self.clock(), self.max_age)
        if expired:
            outcomes["expired"] = expired
        while True:
            ids = self.outbox.due(self.channels, self.clock(), self.batch_size)
            _random.shuffle(ids)  # workers reading the same page then seldom reach for the same row
            for id in ids:
                claimed = self.outbox.claim(id, self.clock(), self.lease)
                if claimed is not None:  # None: another worker has it, or had it and settled it
                    outcomes[self._deliver(claimed)] += 1
            # Every row of this page is now settled, leased or not yet due again: the next page holds others.
            if len(ids) < self.batch_size:
                return outcomes

    def _deliver(self, claimed: Claimed) -> str:
        channel = self.channels[claimed.channel]
        reminder = claimed.reminder
        attempt = claimed.attempts + 1
        addresses: list[str] = []
        try:
            if channel.needs_addresses:
                users = self.recipients(reminder["addressed_to"])
                addresses = sorted({u.email for u in users if u.email})
                if not addresses:
                    named = ", ".join(u.username for u in users) or "nobody holds " + ", ".join(
                        reminder["addressed_to"])
                    return self._settle(claimed, "no_recipients", recipients=json.dumps([]),
                                        last_error=f"no e-mail address for any addressee ({named})")
            note = channel.send(Delivery(claimed.id, reminder, addresses, self.clock()))
        except Exception as error:  # noqa: BLE001 - recorded on the row (visible, retried), not swallowed
            if isinstance(error, DeliveryFailed):
                reason = str(error)
            else:
                reason = f"{type(error).__name__}: {error}"
                log.exception("delivery %s (%s) raised unexpectedly", claimed.id, claimed.channel)
            attempt_counts.add(claimed.channel, "failed")
            if attempt >= self.max_attempts:
                log.warning("delivery %s (%s) failed for good after %d tries: %s", claimed.id, claimed.channel,
                            attempt, reason)
                return self._settle(claimed, "failed", attempts=attempt, last_error=reason,
                                    recipients=json.dumps(addresses))
            wait = backoff(attempt, self.random)
            log.info("delivery %s (%s) try %d failed, next in %.0f s: %s", claimed.id, claimed.channel, attempt,
                     wait.total_seconds(), reason)
            return self._settle(claimed, "retrying", attempts=attempt, last_error=reason,
                                next_attempt_at=self.clock() + wait, recipients=json.dumps(addresses))
        attempt_counts.add(claimed.channel, "delivered")
        return self._settle(claimed, "delivered", attempts=attempt, delivered_at=self.clock(), last_error=note,
                            recipients=json.dumps(addresses))

    def _settle(self, claimed: Claimed, status: str, **values: Any) -> str:
        if status == "no_recipients":
            attempt_counts.add(claimed.channel, "no_recipients")
        if not self.outbox.settle(claimed, status=status, **values):
            # Only if a send outlived the lease: another worker may have taken the row and sent it too.
            log.warning("delivery %s (%s): the lease ran out before it was marked %s", claimed.id, claimed.channel,
                        status)
        return status
