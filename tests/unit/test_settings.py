"""Settings fail fast on bad values and keep the token key safe."""

from __future__ import annotations

import os
import stat

import pytest
from pydantic import ValidationError

from secretariat.settings import SECRET_KEY_FILE, Settings, event_store_env


def test_a_secret_key_shorter_than_32_bytes_is_refused(monkeypatch):
    monkeypatch.setenv("SECRETARIAT_SECRET_KEY", "too-short")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings()


def test_an_unknown_time_zone_and_database_are_refused_naming_what_works(monkeypatch):
    monkeypatch.setenv("SECRETARIAT_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ValidationError, match="IANA name"):
        Settings()
    monkeypatch.delenv("SECRETARIAT_TIMEZONE")
    monkeypatch.setenv("SECRETARIAT_DATABASE_URL", "mysql://db")
    with pytest.raises(ValidationError, match="sqlite:///file.db or postgresql://"):
        Settings()


def test_the_reminder_time_is_a_local_time_of_day(monkeypatch):
    monkeypatch.setenv("SECRETARIAT_REMINDER_TIME", "08:30")
    assert Settings().reminder_time.isoformat() == "08:30:00"
    for wrong in ("09:00Z", "09:00+02:00", "25:00", "nine"):
        monkeypatch.setenv("SECRETARIAT_REMINDER_TIME", wrong)
        with pytest.raises(ValidationError, match="reminder_time"):
            Settings()


def test_database_urls_become_the_libraries_settings():
    assert event_store_env("sqlite:///data/s.db") == {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                                     "SQLITE_DBNAME": "data/s.db"}
    assert event_store_env("sqlite:////var/s.db")["SQLITE_DBNAME"] == "/var/s.db"
    pg = event_store_env("postgresql://ann:p%40ss@db.local:6543/secretariat?schema=s1")
    assert (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_HOST"], pg["POSTGRES_PORT"],
            pg["POSTGRES_DBNAME"], pg["POSTGRES_SCHEMA"]) == ("ann", "p@ss", "db.local", "6543", "secretariat", "s1")
    with pytest.raises(ValueError, match="lose every event"):
        event_store_env("sqlite:///:memory:")


def test_without_a_key_one_is_made_once_readable_only_by_its_owner(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRETARIAT_SECRET_KEY", raising=False)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/s.db")
    key = settings.token_key()
    path = tmp_path / SECRET_KEY_FILE
    assert len(key) >= 32 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(database_url=f"sqlite:///{tmp_path}/s.db").token_key() == key


def test_a_key_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / SECRET_KEY_FILE
    path.write_text("x" * 48)
    os.chmod(path, 0o644)
    with pytest.raises(RuntimeError, match="chmod 600"):
        Settings(database_url=f"sqlite:///{tmp_path}/s.db", secret_key=None).token_key()
