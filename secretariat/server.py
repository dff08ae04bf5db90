"""The ASGI application built from settings, as uvicorn workers import it."""

from __future__ import annotations

import gc
import os
import threading
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from api.app import create_api
from api.limits import RequestLimits
from api.sign_in import SignInGate
from api.sign_in_throttle import SignInThrottle
from audit.archive import StoreAuditArchive
from audit.signing import AUDIT_KEY_FILE
from attachments.blobs import blob_store_for
from attachments.routes import Attachments
from attachments.settings import AttachmentSettings
from secretariat.access_log import redact_tokens_in_access_log
from secretariat.bootstrap import build_application, build_projections, build_scheduler
from secretariat.follower_process import RUN_DIR_ENV
from secretariat.follower_stats import PublishedStats
from secretariat.settings import Settings, event_store_env
from secretariat.wake_channel import WAKE_SOCKET, WakeSender
from secretariat.worker_life import die_with_master


def serving_api() -> FastAPI:
    """What `serve`'s uvicorn workers run (`factory=True`): they only serve. The follower process that
    `serve` starts beside them keeps the read models live and runs the scheduler, once per deployment."""
    return api_from_settings(follow=False, run_dir=Path(os.environ[RUN_DIR_ENV]))


def api_from_settings(settings: Settings | None = None, *, follow: bool = True,
                      run_dir: Path | None = None) -> FastAPI:
    """One application service per process.

    With `follow`, this process also keeps the read models live in a background thread and runs
    the reminder scheduler (tests, and anyone serving the app on their own); several processes
    doing so is safe (tracking positions make every batch happen once, and an item raises each
    reminder once however many schedulers ask). Without it, `run_dir` is where `serve`'s follower
    process listens for wake-ups after each command and publishes its counters for /metrics.
    """
    die_with_master()  # a worker (`serve --workers N`) ends with its master, never holding the port alone
    settings = settings or Settings()
    redact_tokens_in_access_log()  # uvicorn has configured logging by now, in this worker process
    service = build_application(settings)
    read_models, runner = build_projections(service, event_store_env(settings.database_url))
    reminders = build_scheduler(settings, service, read_models, runner)
    wake_sender = WakeSender(run_dir / WAKE_SOCKET) if run_dir is not None and not follow else None
    if wake_sender is not None:
        runner.wake_elsewhere, runner.hurry_elsewhere = wake_sender.send, wake_sender.hurry
    attachments = Attachments(blob_store_for(event_store_env(settings.database_url)),
                              max_bytes=AttachmentSettings().attachment_max_bytes)

    @asynccontextmanager
    async def lifespan(_api: FastAPI):
        stop = threading.Event()
        follower = threading.Thread(target=runner.follow, args=(stop,), name="projections", daemon=True)
        jobs = None
        if follow:
            follower.start()
            jobs = reminders.start(settings.scheduler_tick_seconds)
        # What start-up built lives as long as the process. Frozen, the collector's full passes
        # skip it; unfrozen, they paused dashboard reads of a 100,000-item view by up to 40 ms
        # (p99 of 200 reads about 45 ms against 13 ms frozen; bench/read_models freezes too).
        gc.freeze()
        try:
            yield
        finally:
            stop.set()
            if jobs is not None:
                jobs.shutdown(wait=True)
            if follow:
                follower.join(timeout=5)
            if wake_sender is not None:
                wake_sender.close()
            service.close()

    throttle = SignInThrottle(lockout_failures=settings.sign_in_lockout_failures,
                              lockout_seconds=settings.sign_in_lockout_minutes * 60)
    sign_in = SignInGate(throttle, max_concurrent=settings.sign_in_max_concurrent,
                         trusted_proxies=settings.trusted_proxy_networks)
    api = create_api(service, read_models, runner, token_key=settings.token_key(),
                     token_ttl=timedelta(minutes=settings.token_ttl_minutes), lifespan=lifespan,
                     calendar_token_ttl=timedelta(days=settings.calendar_token_days), sign_in=sign_in,
                     limits=request_limits(settings), attachments=attachments,
                     audit_archive=StoreAuditArchive(service, runner.reader or runner.engine,
                                                     settings.key_folder() / AUDIT_KEY_FILE))
    api.state.scheduler = reminders
    if not follow and run_dir is not None:
        api.state.follower_stats = PublishedStats(run_dir)
    api.state.base_url = settings.base_url
    return api


def request_limits(settings: Settings) -> RequestLimits:
    """What one request may cost, from the settings."""
    return RequestLimits(time_limit=settings.request_time_limit, queue_limit=settings.request_queue_limit,
                         in_flight=settings.requests_in_flight, expensive_per_user=settings.expensive_reads_per_user,
                         expensive_total=settings.expensive_reads_total)
