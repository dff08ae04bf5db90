"""`serve`'s follower process: the projection follower and the reminder scheduler, once per deployment.

`serve` starts it beside uvicorn, whatever the number of workers, so that an API worker only
serves and a request never waits for the follower to let go of the GIL. It is a plain
subprocess (`python -m secretariat.follower_process`), which makes it easy to tell from
uvicorn's workers in `ps`; it ends with `serve` (worker_life.die_with), ignores Ctrl-C (which
the terminal sends to the whole process group: `serve` stops it once uvicorn has stopped, so
that it is never restarted halfway through a shutdown), and stops cleanly on SIGTERM.

`FollowerProcess` is `serve`'s side: it starts the process, starts it again (with a log line,
after a pause that grows while it keeps failing) whenever it ends unasked, and stops it.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

# `serve` names its private run folder here for its workers: the follower process's wake socket and counters.
RUN_DIR_ENV = "SECRETARIAT_SERVE_RUN_DIR"
log = logging.getLogger("uvicorn.error")  # `serve`'s side logs among uvicorn's lines, in their format

STOP_TIMEOUT = 15.0  # seconds for a batch or a tick in progress to end before the process is killed
QUICK_FAILURE = 60.0  # seconds: a process that ended sooner than this after starting waits longer to restart
MAX_RESTART_PAUSE = 30.0


class FollowerProcess:
    """Starts, restarts and stops the follower process for `serve` (its run folder: the wake socket, the stats)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # The watching thread starts the process and lives as long as it: the kernel signals the process when
        # the thread that started it ends (PR_SET_PDEATHSIG follows the parent thread), and it ends at stop().
        self._watcher = threading.Thread(target=self._watch, name="follower-watch", daemon=True)

    def start(self) -> None:
        self._watcher.start()

    def _watch(self) -> None:
        pause = 1.0
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                self.process = subprocess.Popen([sys.executable, "-m", "secretariat.follower_process",
                                                 "--parent", str(os.getpid()), "--run-dir", str(self.run_dir),
                                                 *_registered_workflows()], env=_environment_with_our_path())
            started = time.monotonic()
            code = self.process.wait()
            if self._stopping.is_set():
                return
            pause = 1.0 if time.monotonic() - started > QUICK_FAILURE else min(pause * 2, MAX_RESTART_PAUSE)
            log.warning("The follower process [%d] (read models and reminders) ended with %s; starting it again "
                        "in %.0f s", self.process.pid, code, pause)
            self.restarts += 1
            self._stopping.wait(pause)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.warning("The follower process [%d] did not stop within %.0f s; killing it", process.pid,
                            STOP_TIMEOUT)
                process.kill()
                process.wait()
        self._watcher.join(timeout=STOP_TIMEOUT)


def _registered_workflows() -> list[str]:
    """`--workflow module:Class` for each workflow registered in this process (a plug-in registered before
    `serve` built anything included): the follower projects and reminds for the same workflows as the API."""
    from domain.registry import WORKFLOW_ITEMS

    return [arg for cls in WORKFLOW_ITEMS for arg in ("--workflow", f"{cls.__module__}:{cls.__qualname__}")]


def _environment_with_our_path() -> dict[str, str]:
    """This process's environment, with its import path, so that the follower imports what `serve` imported."""
    path = [entry or os.getcwd() for entry in sys.path]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


def _register(topics: list[str]) -> None:
    """Register the workflows `serve` had registered that this process has not (its plug-ins)."""
    import importlib

    from domain.registry import WORKFLOW_ITEMS, register

    known = {(cls.__module__, cls.__qualname__) for cls in WORKFLOW_ITEMS}
    for topic in topics:
        module, _, qualname = topic.partition(":")
        if (module, qualname) not in known:
            cls = importlib.import_module(module)
            for part in qualname.split("."):
                cls = getattr(cls, part)
            register(cls)


class _Terminated(Exception):
    pass


def _terminated(*_args) -> None:
    raise _Terminated


@contextmanager
def follower_beside_workers() -> Iterator[FollowerProcess]:
    """For `serve`, around uvicorn: a private run folder (named in RUN_DIR_ENV for the workers, which inherit
    the environment) and the follower process; both gone when uvicorn returns, on Ctrl-C and on SIGTERM.

    uvicorn (one worker) catches SIGTERM, shuts down, then raises the signal again with the handler it
    found: this one, so that the follower stops too before `serve` ends as SIGTERM ends a process.
    """
    run_dir = Path(tempfile.mkdtemp(prefix="secretariat-serve-"))  # 0700: only this user may wake or read it
    os.environ[RUN_DIR_ENV] = str(run_dir)
    follower = FollowerProcess(run_dir)
    previous = signal.signal(signal.SIGTERM, _terminated)
    terminated = False
    try:
        follower.start()
        yield follower
    except _Terminated:
        terminated = True
    finally:
        follower.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
    if terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


def run(parent: int, run_dir: Path, workflows: list[str]) -> None:
    """The follower process itself: follow the log and tick the scheduler until SIGTERM (or `serve` ends)."""
    from secretariat.bootstrap import build_application, build_projections, build_scheduler
    from secretariat.follower_stats import StatsPublisher
    from secretariat.settings import Settings, event_store_env
    from secretariat.wake_channel import WAKE_SOCKET, WakeListener
    from secretariat.worker_life import die_with

    die_with(parent)
    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for `serve`, which then stops this process
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # As in a worker: warnings from anyone, and what the follower and the scheduler say they did.
    _register(workflows)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:     [follower] %(message)s")
    for name in ("secretariat", log.name):
        logging.getLogger(name).setLevel(logging.INFO)
    settings = Settings()
    service = build_application(settings)
    read_models, runner = build_projections(service, event_store_env(settings.database_url))
    reminders = build_scheduler(settings, service, read_models, runner)
    listener = WakeListener(run_dir / WAKE_SOCKET, runner.wake, runner.hurry)
    publisher = StatsPublisher(run_dir, runner, reminders.stats)
    jobs = reminders.start(settings.scheduler_tick_seconds)
    log.info("Started the follower process [%d]: read models and reminders", os.getpid())
    try:
        runner.follow(stop)
    finally:
        jobs.shutdown(wait=True)
        publisher.close()
        listener.close()
        service.close()
        log.info("Stopped the follower process [%d]", os.getpid())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="serve's follower process (started by `secretariat serve`)")
    parser.add_argument("--parent", type=int, required=True, help="the pid of serve: this process ends with it")
    parser.add_argument("--run-dir", type=Path, required=True, help="serve's private folder (wake socket, stats)")
    parser.add_argument("--workflow", action="append", default=[], help="module:Class of a workflow serve had "
                        "registered (its plug-ins; the built-in ones are registered already)")
    args = parser.parse_args(argv)
    run(args.parent, args.run_dir, args.workflow)


if __name__ == "__main__":
    main()
