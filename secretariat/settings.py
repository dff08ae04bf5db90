"""Settings, from environment variables prefixed `SECRETARIAT_`; bad values fail at start-up."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secretariat-secret.key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SECRETARIAT_", extra="ignore")

    database_url: str = Field("sqlite:///secretariat.db", description="sqlite:///path/file.db or "
                              "postgresql://user@host:port/db")
    scheduler_tick_seconds: float = Field(60, gt=0, description="How often the scheduler looks for due reminders")
    timezone: str = Field("Europe/Ljubljana", description="The Secretariat's time zone for deadlines")
    holiday_country: str = Field("SI", description="Whose public holidays are days off (ISO country code)")
    secret_key: SecretStr | None = Field(None, description="Signs access tokens; at least 32 bytes")
    token_ttl_minutes: int = Field(480, gt=0, le=60 * 24 * 30, description="How long an access token is valid")
    data_dir: Path | None = Field(None, description="Where the key file lives; default: beside the SQLite "
                                  "file, or the working folder with PostgreSQL")

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("SECRETARIAT_SECRET_KEY must be at least 32 bytes; "
                             "make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Ljubljana") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        event_store_env(value)  # raises ValueError with the reason
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def key_folder(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir
        if self.is_sqlite:
            return Path(event_store_env(self.database_url)["SQLITE_DBNAME"]).resolve().parent
        return Path.cwd()

    def token_key(self) -> str:
        """The key that signs tokens: the setting, or a random one kept owner-only beside the data."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _key_from_file(self.key_folder() / SECRET_KEY_FILE)


def event_store_env(url: str) -> dict[str, str]:
    """The `eventsourcing` library's settings for a database URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme == "sqlite":
        path = unquote(url.split("://", 1)[1])
        path = path[1:] if path.startswith("/") else path  # sqlite:///rel.db, sqlite:////abs.db
        if not path or path == ":memory:":
            raise ValueError("give SQLite a file, e.g. sqlite:///secretariat.db (in-memory would lose every event)")
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
    if scheme in ("postgresql", "postgres"):
        if not parts.path.strip("/"):
            raise ValueError("name the PostgreSQL database, e.g. postgresql://postgres@127.0.0.1:5432/secretariat")
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": unquote(parts.path.strip("/")),
               "POSTGRES_HOST": parts.hostname or "127.0.0.1", "POSTGRES_PORT": str(parts.port or 5432),
               "POSTGRES_USER": unquote(parts.username or "postgres"),
               "POSTGRES_PASSWORD": unquote(parts.password or "")}
        if "schema=" in parts.query:
            env["POSTGRES_SCHEMA"] = parts.query.split("schema=", 1)[1].split("&")[0]
        return env
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///file.db or postgresql://user@host:port/db")


def _key_from_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise RuntimeError(f"{path} is readable by others; run: chmod 600 {path}") from None
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
