"""The scheduler's tick: find the reminders now due, raise them, project them, deliver what is waiting.

The deadlines view nominates items (one index range on `next_rung_on`); each item decides
for itself, from its own events, which rung is due and whether it was raised already. So
any number of schedulers may tick at once, and a restart or a downtime only means the
next tick finds what fell due meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from domain.application import SecretariatApplication
from projections.queries import ReadModels
from projections.runner import ProjectionRunner

log = logging.getLogger("secretariat.scheduler")

# A round reads up to this many items with a rung due, restored from the view in one query,
# and saves them SAVED_TOGETHER per transaction; a bigger backlog takes several rounds.
NOMINATED_PER_ROUND = 5000
SAVED_TOGETHER = 500
VIEWS_A_TICK_READS = ("items", "deliveries")  # the deadlines it nominates from; the outbox it delivers


@dataclass
class TickStats:
    """What /metrics reports about this process's ticks."""

    ticks: int = 0
    raised: int = 0
    last_tick_seconds: float = 0.0
    total_tick_seconds: float = 0.0
    failures: int = 0


@dataclass
class ReminderScheduler:
    service: SecretariatApplication
    read_models: ReadModels
    runner: ProjectionRunner  # brings the views up to date between rounds (safe beside a follower)
    deliver: Callable[[], Any] | None = None  # sends what waits in the outbox; None: no channel configured
    stats: TickStats = field(default_factory=TickStats)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _jobs: BaseScheduler | None = None
    _tick_seconds: float = 60.0

    def tick(self) -> list[dict[str, Any]]:
        """One tick; the reminders it raised. Rounds continue while they raise something, so a backlog
        (after a downtime) is cleared in one tick rather than one round per tick."""
        with self._lock:  # the aimed and the regular job may both be due; a test or the CLI may call it too
            started = time.perf_counter()
            raised: list[dict[str, Any]] = []
            try:
                self._catch_up()
                up_to = self.service.reminder_clock.last_rung_day(self.service.clock())
                while True:
                    nominated = self.read_models.items_with_rungs_due(up_to, limit=NOMINATED_PER_ROUND)
                    round_raised = []
                    for start in range(0, len(nominated), SAVED_TOGETHER):
                        round_raised += self.service.raise_reminders_on(nominated[start:start + SAVED_TOGETHER])
                    raised += round_raised
                    if round_raised:
                        self._catch_up()  # the raised ladders move on in the view before the next round
                    if not round_raised:  # (after a round that raised, the view has moved on: ask again)
                        break
                if self.deliver is not None:
                    self.deliver()
            except Exception:
                self.stats.failures += 1
                log.exception("scheduler tick failed; the next tick tries again")
                raise
            finally:
                elapsed = time.perf_counter() - started
                self.stats.ticks += 1
                self.stats.raised += len(raised)
                self.stats.last_tick_seconds = elapsed
                self.stats.total_tick_seconds += elapsed
            if raised:
                log.info("raised %d reminder(s) in %.3f s", len(raised), elapsed)
            return raised

    def _catch_up(self) -> None:
        # Only the views a tick reads: the rest are the follower's (in serve) and would only compete with it.
        for projection in self.runner.projections:
            if projection.name in VIEWS_A_TICK_READS:
                self.runner.catch_up(projection)

    def start(self, tick_seconds: float) -> BaseScheduler:
        """Tick now and then every `tick_seconds` (APScheduler); now, so rungs missed while down go out at once.

        Besides the regular ticks, a tick is aimed at the instant the next rung falls due when
        that comes before the next regular tick: reminders go out at 09:00, not up to a tick later.
        """
        scheduler = BackgroundScheduler(daemon=True)
        self._jobs, self._tick_seconds = scheduler, tick_seconds
        scheduler.add_job(self._tick_and_aim, IntervalTrigger(seconds=tick_seconds), id="reminders",
                          name="raise and deliver due reminders", max_instances=1, coalesce=True,
                          next_run_time=datetime.now(timezone.utc), misfire_grace_time=None)
        scheduler.start()
        return scheduler

    def _tick_and_aim(self) -> None:
        try:
            self.tick()
            self._aim_at_next_rung()
        except Exception:  # already logged; the scheduler must keep ticking
            pass

    def _aim_at_next_rung(self) -> None:
        reminder_clock = self.service.reminder_clock
        now = self.service.clock()
        day = self.read_models.next_rung_day_after(reminder_clock.last_rung_day(now))
        if day is None:
            return
        instant = reminder_clock.day_instant(day)
        if instant - now < timedelta(seconds=self._tick_seconds):
            self._jobs.add_job(self._tick_and_aim, DateTrigger(run_date=instant), id="reminders-at-rung",
                               name="raise the reminders of the next rung instant", replace_existing=True,
                               misfire_grace_time=None)
