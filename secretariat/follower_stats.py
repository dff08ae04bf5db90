"""The follower process's counters, for /metrics in `serve`'s API workers, which follow nothing themselves.

The follower process writes them to a small JSON file in `serve`'s run folder once a second
(replacing it whole, so a reader never sees half of one); a worker reads it when /metrics is
scraped. Lag and positions are not in it: /metrics and /health read those from the store.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, fields
from pathlib import Path
from typing import Mapping

from projections.runner import ProjectionRunner, Stats
from scheduler.delivery import attempt_counts
from scheduler.ticker import TickStats

STATS_FILE = "follower-stats.json"
PUBLISH_SECONDS = 1.0


class StatsPublisher:
    """In the follower process: write the counters every second from a thread of its own, and once at close."""

    def __init__(self, run_dir: Path, runner: ProjectionRunner, ticks: TickStats) -> None:
        self.path = run_dir / STATS_FILE
        self.runner, self.ticks = runner, ticks
        self._published = ""
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._publish_often, name="stats-publish", daemon=True)
        self._thread.start()

    def _publish_often(self) -> None:
        while not self._stopped.wait(PUBLISH_SECONDS):
            self.publish()

    def publish(self) -> None:
        document = {"pid": os.getpid(),
                    "projections": {name: asdict(stats) for name, stats in list(self.runner.stats.items())},
                    "scheduler": asdict(self.ticks),
                    "delivery_attempts": [[channel, outcome, n]
                                          for (channel, outcome), n in attempt_counts.snapshot().items()]}
        text = json.dumps(document)
        if text == self._published:
            return  # idle: nothing to write
        partial = self.path.with_suffix(".partial")
        partial.write_text(text)
        os.replace(partial, self.path)
        self._published = text

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)
        self.publish()


class PublishedStats:
    """In an API worker: the follower process's counters, as last published (none before its first second)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / STATS_FILE

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def projections(self) -> Mapping[str, Stats]:
        return {name: _dataclass(Stats, values) for name, values in self._read().get("projections", {}).items()}

    def scheduler(self) -> TickStats:
        return _dataclass(TickStats, self._read().get("scheduler", {}))

    def delivery_attempts(self) -> Mapping[tuple[str, str], int]:
        return {(channel, outcome): n for channel, outcome, n in self._read().get("delivery_attempts", [])}


def _dataclass(kind, values: dict):
    known = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in values.items() if k in known})
