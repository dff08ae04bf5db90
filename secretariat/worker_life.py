"""A uvicorn worker dies with its master, so a `kill -9` of the master never leaves workers
holding the port (a restart would then fail with "Address already in use").

On Linux the kernel sends the worker SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG),
and uvicorn shuts the worker down as for any SIGTERM: it finishes the requests in flight.
Elsewhere a watchdog thread asks once a second whether the parent has changed. The signal
follows the parent *thread*: uvicorn starts and restarts workers from its main thread, which
lives as long as the master does.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_master() -> None:
    """In a worker process (one started by multiprocessing), end it when its master ends; else do nothing."""
    master = multiprocessing.parent_process()
    if master is None:
        return  # `serve` with one worker is the master itself: it outlives whatever started it
    die_with(master.pid)


def die_with(master_pid: int) -> None:
    """End this process (SIGTERM) when the process `master_pid`, its parent, ends (for the follower process,
    which `serve` starts as a plain subprocess, so multiprocessing does not know its parent)."""
    if not _ask_kernel_for_signal_on_parent_death():
        threading.Thread(target=_watch_parent, args=(master_pid,), name="master-watchdog", daemon=True).start()
    if os.getppid() != master_pid:  # the master died before the request above took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _ask_kernel_for_signal_on_parent_death() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(master_pid: int) -> None:
    while os.getppid() == master_pid:
        threading.Event().wait(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
