"""Part 2: how late reminders go out, with a real clock and the scheduler running as `serve` runs it.

Setup (not timed), with an application whose reminder time is 23:59:59, so nothing falling
on today is due yet: `rungs` tasks due tomorrow (local) are saved, and a tick raises their
`upcoming` rung (fallen due six days ago), so that only `due_soon` is left; it falls today.

Then an application is built with `SECRETARIAT_REMINDER_TIME` a few seconds ahead, so every
`due_soon` rung falls due at that instant. The projection follower runs in a thread and
`ReminderScheduler.start(tick_seconds)` ticks in APScheduler's background thread, as in
secretariat/server.py (then `gc.freeze()`, as there). A listener appended to
`service.on_recorded` notes the wall time each save committed, with its log position; the
log, read afterwards, maps each `ReminderRaised` to its save. Lateness = commit time minus
the rung's instant (`data["instant"]`); beside it the event's own timestamp (the time the
round that raised it started) minus the instant.

With `aim=False` the scheduler skips `_aim_at_next_rung`, so only the regular ticks run: how
late a reminder is then also depends on where in the tick period the instant falls.
"""

from __future__ import annotations

import gc
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as time_of_day
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic

from deadlines import TZ, Store, local_today, save_tasks, settings_for
from domain.task import Task
from scheduler.ticker import ReminderScheduler
from secretariat.bootstrap import build_application, build_projections, build_scheduler
from shared import log

REMINDER_TOPIC = get_topic(Task.ReminderRaised)
MIDNIGHT_MARGIN = timedelta(minutes=10)  # a run starting nearer local midnight waits for the new day


@dataclass
class TimedScheduler(ReminderScheduler):
    """The scheduler as it is, noting when each of its scheduled ticks starts; with `aim=False`, no aimed tick."""

    aim: bool = True
    tick_starts: list[float] = field(default_factory=list)

    def _tick_and_aim(self) -> None:
        self.tick_starts.append(time.time())
        super()._tick_and_aim()

    def _aim_at_next_rung(self) -> None:
        if self.aim:
            super()._aim_at_next_rung()


@dataclass
class LatenessResult:
    aim: bool
    rungs: int
    lateness_ms: list[float] = field(default_factory=list)  # commit wall time - instant
    stamped_ms: list[float] = field(default_factory=list)  # event timestamp (round start) - instant
    rounds: list[tuple[float, float, int]] = field(default_factory=list)  # start, commit (ms after), reminders
    ticks_ms: list[float] = field(default_factory=list)  # scheduled tick starts around the instant (ms after it)
    setup_note: str = ""
    lead_ms: float = 0.0  # how long before the instant the scheduler was running
    problems: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "aimed tick on (as serve)" if self.aim else "no aimed tick"


def wait_out_midnight(tz: ZoneInfo) -> None:
    """Everything happens on one local day: the tasks are due tomorrow, the rung falls today."""
    now = datetime.now(tz)
    midnight = datetime.combine(now.date() + timedelta(days=1), time_of_day(0), tzinfo=tz)
    if midnight - now < MIDNIGHT_MARGIN:
        wait = (midnight - now).total_seconds() + 5
        log(f"    {now:%H:%M:%S} local: waiting {wait:.0f} s for the new day")
        time.sleep(wait)


def setup(store: Store, rungs: int) -> tuple[list[str], str]:
    """`rungs` tasks due tomorrow, their upcoming rung raised; their ids, and what it took."""
    service = build_application(settings_for(store, reminder_time=time_of_day(23, 59, 59)))
    read_models, runner = build_projections(service, store.env)
    try:
        tomorrow = local_today(service) + timedelta(days=1)
        started = time.perf_counter()
        ids = save_tasks(service, rungs, lambda _n: tomorrow, "Due tomorrow")
        saved = time.perf_counter() - started
        raised = build_scheduler(settings_for(store), service, read_models, runner).tick()
        ours = set(ids)
        upcoming = [r for r in raised if r["item_id"] in ours and r["rung"] == "upcoming"]
        if len(upcoming) != rungs or len(raised) != rungs:
            raise RuntimeError(f"the setup tick raised {len(raised)} reminders, {len(upcoming)} of them upcoming "
                               f"on the {rungs} new tasks; expected exactly those")
        return ids, (f"{rungs} tasks due {tomorrow} saved in {saved:.1f} s; their upcoming rungs raised by a setup "
                     f"tick in {time.perf_counter() - started - saved:.1f} s")
    finally:
        runner.engine.dispose()
        read_models.engine.dispose()
        service.close()


def bench_lateness(store: Store, rungs: int, tick_seconds: float, lead_seconds: float, aim: bool,
                   timeout_seconds: float = 120.0) -> LatenessResult:
    tz = ZoneInfo(TZ)
    result = LatenessResult(aim, rungs)
    wait_out_midnight(tz)
    ids, result.setup_note = setup(store, rungs)
    log(f"    {result.setup_note}")

    # The reminder time: a whole second, lead_seconds or a little more from now.
    at = datetime.now(tz).replace(microsecond=0) + timedelta(seconds=lead_seconds + 1)
    settings = settings_for(store, reminder_time=at.time(), scheduler_tick_seconds=tick_seconds)
    service = build_application(settings)
    read_models, runner = build_projections(service, store.env)
    scheduler = TimedScheduler(service, read_models, runner, aim=aim)
    today = local_today(service)
    instant = service.reminder_clock.day_instant(today).timestamp()
    head = service.recorder.max_notification_id() or 0
    commits: list[tuple[int, float]] = []
    service.on_recorded.append(lambda position: commits.append((position, time.time())))
    stop = threading.Event()
    follower = threading.Thread(target=runner.follow, args=(stop,), name="projections", daemon=True)
    jobs = None
    try:
        follower.start()
        jobs = scheduler.start(tick_seconds)
        gc.freeze()
        result.lead_ms = (instant - time.time()) * 1000
        log(f"    scheduler started {result.lead_ms / 1000:.1f} s before the rungs fall due at {at:%H:%M:%S} local "
            f"({'with' if aim else 'without'} the aimed tick)")
        if result.lead_ms < tick_seconds * 1000:
            result.problems.append(f"the scheduler started only {result.lead_ms:.0f} ms before the instant")
        while scheduler.stats.raised < rungs and time.time() < instant + timeout_seconds:
            time.sleep(0.05)
        time.sleep(0.2)  # lets a tick that is still running finish
    finally:
        if jobs is not None:
            jobs.shutdown(wait=True)
        stop.set()
        follower.join(timeout=10)
        gc.unfreeze()
    try:
        _measure(result, service, head, commits, instant, set(ids))
        result.ticks_ms = [(t - instant) * 1000 for t in scheduler.tick_starts if t >= instant - tick_seconds]
        if scheduler.stats.failures:
            result.problems.append(f"{scheduler.stats.failures} tick(s) failed (logged above)")
    finally:
        runner.engine.dispose()
        read_models.engine.dispose()
        service.close()
    return result


def _measure(result: LatenessResult, service, head: int, commits: list[tuple[int, float]], instant: float,
             ids: set[str]) -> None:
    """Each reminder's commit time, from the log read afterwards and the positions the listener noted."""
    commits.sort()
    positions = [p for p, _t in commits]
    rounds: dict[float, list[float]] = defaultdict(list)
    seen: set[str] = set()
    position = head + 1
    while True:
        batch = service.recorder.select_notifications(position, 1000, topics=[REMINDER_TOPIC])
        if not batch:
            break
        for notification in batch:
            event = service.mapper.to_domain_event(notification)
            data = event.data
            if str(event.originator_id) not in ids:
                result.problems.append(f"a reminder on another item was raised: {data['rung']} {data['due']}")
                continue
            if data["rung"] != "due_soon" or data["instant"].timestamp() != instant:
                result.problems.append(f"unexpected reminder {data['rung']} at {data['instant']}")
                continue
            if data["reminder_id"] in seen:
                result.problems.append(f"reminder {data['reminder_id']} raised twice")
            seen.add(data["reminder_id"])
            index = bisect_left(positions, notification.id)
            if index == len(positions):
                result.problems.append(f"no commit noted for position {notification.id}")
                continue
            committed = commits[index][1]
            result.lateness_ms.append((committed - instant) * 1000)
            stamped = (event.timestamp.timestamp() - instant) * 1000
            result.stamped_ms.append(stamped)
            rounds[stamped].append((committed - instant) * 1000)
        position = batch[-1].id + 1
    result.rounds = [(start, max(done), len(done)) for start, done in sorted(rounds.items())]
    if len(seen) != result.rungs:
        result.problems.append(f"{len(seen)} of the {result.rungs} due_soon reminders were raised")
