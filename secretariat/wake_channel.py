"""A wake-up from `serve`'s API workers to its follower process: "new events were recorded, look now".

A Unix datagram socket in `serve`'s private run folder. After each command a worker sends one
byte without waiting (about 5 µs); the follower's listening thread turns it into a wake-up. A
request that waits for the views sends another byte, "hurry": the follower then starts its batch
at once instead of gathering more commands' events first (projections/runner.py `follow`).
Losing one costs nothing but time: a full queue means a wake-up is pending already, and a
follower that is restarting finds the events at its first look anyway. The follower polls the
log besides (every half second), and on PostgreSQL it also LISTENs to the store's NOTIFY.
An idle follower blocks in recv: no CPU at all, unlike polling SQLite's `PRAGMA data_version`.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Callable

WAKE_SOCKET = "wake.sock"
WAKE, HURRY = b"w", b"h"


class WakeSender:
    """In an API worker: nudge the follower process; never blocks, never fails a command."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def send(self) -> None:
        """New events were recorded."""
        self._send(WAKE)

    def hurry(self) -> None:
        """A request waits for the views to show what was recorded."""
        self._send(HURRY)

    def _send(self, what: bytes) -> None:
        try:
            self._socket.sendto(what, self.path)
        except OSError:
            pass  # no follower listening right now (restarting), or wake-ups already queued: nothing is lost

    def close(self) -> None:
        self._socket.close()


class WakeListener:
    """In the follower process: call `wake` for every datagram received, from a thread of its own (`hurry`
    instead for a "hurry" one, when given)."""

    def __init__(self, path: Path, wake: Callable[[], None], hurry: Callable[[], None] | None = None) -> None:
        self.path = path
        path.unlink(missing_ok=True)  # left by a follower that crashed; this one takes its place
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(path))
        os.chmod(path, 0o600)
        self._socket.settimeout(1.0)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._listen, args=(wake, hurry or wake), name="wake-listen",
                                        daemon=True)
        self._thread.start()

    def _listen(self, wake: Callable[[], None], hurry: Callable[[], None]) -> None:
        while not self._stopped.is_set():
            try:
                what = self._socket.recv(64)
            except socket.timeout:
                continue
            except OSError:
                return
            (hurry if what == HURRY else wake)()

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)
        self._socket.close()
        self.path.unlink(missing_ok=True)
