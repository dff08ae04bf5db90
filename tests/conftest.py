"""Shared fixtures: the stores (SQLite file, PostgreSQL schema), a controllable clock, the service."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Iterator
from uuid import uuid4

import pytest
from argon2 import PasswordHasher

from domain.application import SecretariatApplication
from domain.calendar import BusinessCalendar
from secretariat.bootstrap import Argon2Hasher

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


class FakeClock:
    """Time that moves only when a test moves it."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def require_postgres() -> None:
    """PostgreSQL tests skip on a developer machine without it, and fail in CI (CI=true)."""
    import psycopg

    try:
        psycopg.connect(connect_timeout=3, **POSTGRES).close()
    except psycopg.OperationalError as error:
        postgres_unreachable = f"PostgreSQL at {POSTGRES['host']}:{POSTGRES['port']} is unreachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(postgres_unreachable + " (CI=true makes PostgreSQL tests mandatory)", pytrace=False)
        pytest.skip(postgres_unreachable)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    import psycopg

    require_postgres()
    schema = f"t_{uuid4().hex[:16]}"
    with psycopg.connect(autocommit=True, **POSTGRES) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(autocommit=True, **POSTGRES) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_env(request: pytest.FixtureRequest, tmp_path) -> dict[str, str]:
    """The `eventsourcing` settings for each real store; tests using it run once per store."""
    if request.param == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.db")}
    schema = request.getfixturevalue("postgres_schema")
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": POSTGRES["dbname"],
            "POSTGRES_HOST": POSTGRES["host"], "POSTGRES_PORT": str(POSTGRES["port"]),
            "POSTGRES_USER": POSTGRES["user"], "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": schema}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def hasher() -> Argon2Hasher:
    # Real Argon2id, with the cost turned down so tests that sign in stay quick.
    return Argon2Hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def make_service(env: dict[str, str], hasher: Argon2Hasher, clock: FakeClock) -> SecretariatApplication:
    """The application with personal data encrypted, as the composition root builds it (keys in the store)."""
    from personal_data.cipher import EncryptedPersonalData
    from personal_data.keys import MemoryPersonalKeys, SqlPersonalKeys
    from projections.database import engine_for

    if env["PERSISTENCE_MODULE"] == "eventsourcing.popo":
        keys = MemoryPersonalKeys()
    else:
        keys = SqlPersonalKeys(engine_for(dict(env)))
        keys.set_up()
    return SecretariatApplication(env, hasher=hasher, clock=clock, calendar=BusinessCalendar(), personal_keys=keys,
                                  personal_data=EncryptedPersonalData(keys))


@pytest.fixture
def service(store_env, hasher, clock) -> Iterator[SecretariatApplication]:
    """The application on a real store (SQLite file, then PostgreSQL)."""
    app = make_service(store_env, hasher, clock)
    yield app
    app.close()


@pytest.fixture
def memory_service(hasher, clock) -> SecretariatApplication:
    """The application on the library's in-memory store, for domain rules that do not depend on storage."""
    return make_service({"PERSISTENCE_MODULE": "eventsourcing.popo"}, hasher, clock)
