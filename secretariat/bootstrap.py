"""Wiring: builds the application from settings, with every part overridable for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import holidays
from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from audit.log import AuditLogProjection
from audit.seal import AuditChainProjection
from domain.application import Clock, SecretariatApplication, utc_now
from domain.calendar import BusinessCalendar
from personal_data.cipher import EncryptedPersonalData
from personal_data.keys import SqlPersonalKeys
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.queries import ReadModels
from projections.reminders import RemindersProjection
from projections.runner import ProjectionRunner
from projections.setup_lock import set_up_once
from scheduler.channels import Channel, channels_for
from scheduler.delivery import DeliveryWorker
from scheduler.outbox import DeliveriesProjection
from scheduler.ticker import ReminderScheduler
from secretariat.file_modes import secure_sqlite_files
from secretariat.settings import Settings, event_store_env


class Argon2Hasher:
    """Argon2id password hashes (argon2-cffi's recommended parameters)."""

    def __init__(self, argon2: Argon2 | None = None) -> None:
        self._argon2 = argon2 or Argon2()

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def business_calendar(settings: Settings) -> BusinessCalendar:
    public = holidays.country_holidays(settings.holiday_country)
    return BusinessCalendar(holidays=public, known_years=range(public.start_year, public.end_year + 1))


def build_application(settings: Settings, *, clock: Clock = utc_now, hasher: Argon2Hasher | None = None,
                      env: Mapping[str, str] | None = None) -> SecretariatApplication:
    """The application over the store the settings name."""
    hasher = hasher or Argon2Hasher(Argon2(time_cost=settings.argon2_time_cost,
                                           memory_cost=settings.argon2_memory_cost,
                                           parallelism=settings.argon2_parallelism))
    store_env = {**event_store_env(settings.database_url), **(env or {})}
    if settings.is_sqlite:
        secure_sqlite_files(Path(store_env["SQLITE_DBNAME"]))
        store_env.setdefault("SQLITE_LOCK_TIMEOUT", str(settings.sqlite_lock_timeout))
    keys = SqlPersonalKeys(engine_for(dict(store_env)))  # e-mail addresses etc., encrypted per person

    def set_up() -> SecretariatApplication:
        keys.set_up()
        return SecretariatApplication(store_env, hasher=hasher, clock=clock, calendar=business_calendar(settings),
                                      tz=settings.tz, reminder_time=settings.reminder_time, personal_keys=keys,
                                      personal_data=EncryptedPersonalData(keys))
    return set_up_once(store_env, set_up)


def build_projections(service: SecretariatApplication,
                      store_env: Mapping[str, str]) -> tuple[ReadModels, ProjectionRunner]:
    """The read models and the runner that keeps them up to date, in the event store's database.

    The deliveries outbox is always there (so /deliveries and /metrics find it); it queues a
    delivery per reminder for every channel, whatever this process's settings configure: the
    runner's position is shared by every process, and the workers send what their channels can.
    """
    transcoder = service.mapper.transcoder
    reader = engine_for(dict(store_env))
    runner = ProjectionRunner(service, engine_for(dict(store_env), writer=True),
                              [ItemsProjection(transcoder), RemindersProjection(),
                               AuditLogProjection(transcoder), AuditChainProjection(),
                               DeliveriesProjection()], reader=reader)
    set_up_once(store_env, runner.setup)  # safe beside other processes setting up the same fresh store
    service.on_recorded.append(lambda _position: runner.wake())
    return ReadModels(reader, transcoder), runner


def build_scheduler(settings: Settings, service: SecretariatApplication, read_models: ReadModels,
                    runner: ProjectionRunner) -> ReminderScheduler:
    """The reminder scheduler over the application and its views, delivering through the configured channels."""
    channels = delivery_channels(settings)
    worker = DeliveryWorker(runner.engine, channels, recipients=service.recipients, clock=service.clock,
                            max_attempts=settings.delivery_max_attempts) if channels else None
    return ReminderScheduler(service, read_models, runner, deliver=worker.run_once if worker else None)


def delivery_channels(settings: Settings) -> dict[str, Channel]:
    """The channels the settings configure, by name: "email" with an SMTP URL, "webhook" with a webhook URL."""
    def plain(secret):
        return secret.get_secret_value() if secret is not None else None

    return channels_for(smtp_url=plain(settings.smtp_url), mail_from=settings.mail_from,
                        webhook_url=settings.webhook_url, webhook_secret=plain(settings.webhook_secret),
                        base_url=settings.base_url)
