"""Wiring: builds the application from settings, with every part overridable for tests."""

from __future__ import annotations

from typing import Mapping

import holidays
from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from domain.application import Clock, SecretariatApplication, utc_now
from domain.calendar import BusinessCalendar
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.queries import ReadModels
from projections.runner import ProjectionRunner
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
    return BusinessCalendar(holidays=holidays.country_holidays(settings.holiday_country))


def build_application(settings: Settings, *, clock: Clock = utc_now, hasher: Argon2Hasher | None = None,
                      env: Mapping[str, str] | None = None) -> SecretariatApplication:
    """The application over the store the settings name."""
    return SecretariatApplication({**event_store_env(settings.database_url), **(env or {})},
                                  hasher=hasher or Argon2Hasher(), clock=clock,
                                  calendar=business_calendar(settings), tz=settings.tz)


def build_projections(service: SecretariatApplication, store_env: Mapping[str, str]) -> tuple[ReadModels,
                                                                                               ProjectionRunner]:
    """The read models and the runner that keeps them up to date, in the event store's database."""
    transcoder = service.mapper.transcoder
    reader = engine_for(dict(store_env))
    runner = ProjectionRunner(service, engine_for(dict(store_env), writer=True), [ItemsProjection(transcoder)],
                              reader=reader)
    runner.setup()
    service.on_recorded.append(lambda _position: runner.wake())
    return ReadModels(reader, transcoder), runner
