"""Settings, from environment variables prefixed `SECRETARIAT_`; bad values fail at start-up."""

from __future__ import annotations

import os
import secrets
import stat
from datetime import time
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secretariat-secret.key"


class Settings(BaseSettings):
    # Errors never echo the value: a key or a URL with a password in it would end up in a log.
    model_config = SettingsConfigDict(env_prefix="SECRETARIAT_", extra="ignore", hide_input_in_errors=True)

    database_url: str = Field("sqlite:///secretariat.db", description="sqlite:///path/file.db or "
                              "postgresql://user@host:port/db")
    scheduler_tick_seconds: float = Field(60, gt=0, description="How often the scheduler looks for due reminders")
    timezone: str = Field("Europe/Ljubljana", description="The Secretariat's time zone for deadlines")
    reminder_time: time = Field(time(9, 0), description="Local time of day (HH:MM) at which reminders fall due")
    holiday_country: str = Field("SI", description="Whose public holidays are days off (ISO country code)")
    secret_key: SecretStr | None = Field(None, description="Signs access tokens; at least 32 bytes")
    token_ttl_minutes: int = Field(480, gt=0, le=60 * 24 * 30, description="How long an access token is valid")
    calendar_token_days: int = Field(365, gt=0, le=3660, description="How long a calendar feed URL's token is "
                                     "valid (GET /calendar.ics?token=...)")
    data_dir: Path | None = Field(None, description="Where the key file lives; default: beside the SQLite "
                                  "file, or the working folder with PostgreSQL")
    # Delivery of reminders (scheduler/delivery.py); with neither URL, reminders stay in the inbox only.
    smtp_url: SecretStr | None = Field(None, description="Where reminders are e-mailed through: smtp://host:25, "
                                       "smtp+starttls://user:password@host:587 or smtps://user:password@host:465")
    mail_from: str = Field("secretariat@localhost", description="The From: address of reminder e-mails")
    webhook_url: str | None = Field(None, description="Where each reminder is POSTed as signed JSON")
    webhook_secret: SecretStr | None = Field(None, validate_default=True, description="Signs webhook bodies "
                                             "(HMAC-SHA256); at least 32 bytes; required with SECRETARIAT_WEBHOOK_URL")
    delivery_max_attempts: int = Field(8, ge=1, le=50, description="Tries of a delivery before it is marked failed")
    base_url: str | None = Field(None, description="Where people open the Secretariat (https://...), for links in "
                                 "reminder e-mails, calendar events and feed URLs")
    # Signing in (api/sign_in.py, api/sign_in_throttle.py) and the proxies whose forwarded headers count.
    trusted_proxies: str = Field("", description="Comma-separated IPs or networks (CIDR) of reverse proxies whose "
                                 "X-Forwarded-For/-Proto are believed; empty: none")
    argon2_time_cost: int = Field(3, ge=1, le=20, description="Argon2id passes over memory per password hash")
    argon2_memory_cost: int = Field(65536, ge=8192, le=1 << 21, description="Argon2id memory per hash, in KiB")
    argon2_parallelism: int = Field(4, ge=1, le=16, description="Argon2id lanes (threads) per hash")
    sign_in_max_concurrent: int = Field(2, ge=1, le=64, description="Password checks running at once; more "
                                        "sign-ins wait briefly (pairs that signed in before) or get 503")
    sign_in_lockout_failures: int = Field(10, ge=3, le=1000, description="Wrong passwords that lock a username out "
                                          "(an address: five times as many)")
    sign_in_lockout_minutes: float = Field(15, gt=0, le=24 * 60, description="How long a lock-out lasts")
    sqlite_lock_timeout: int = Field(5, ge=1, le=600, description="Seconds a write waits for SQLite's lock (held "
                                     "by another write, or a rebuild's batch) before it is answered 503")
    # What one request may cost (api/limits.py, api/expensive.py); each uvicorn worker counts its own.
    request_time_limit: float = Field(30, gt=0, le=3600, description="Seconds until a read's answer starts; "
                                      "past it the answer is 503 with Retry-After")
    request_queue_limit: float = Field(10, gt=0, le=3600, description="Seconds a request may wait for one of the "
                                       "places in flight before it is answered 503 with Retry-After")
    requests_in_flight: int = Field(32, ge=1, le=40, description="Requests worked on at once per worker (at most "
                                    "the 40 threads AnyIO gives sync routes)")
    expensive_reads_per_user: int = Field(2, ge=1, le=100, description="Expensive reads (replays, as-of "
                                          "dashboards, chain verification, calendar feed) one user may run at "
                                          "once; more are answered 429")
    expensive_reads_total: int = Field(4, ge=1, le=40, description="Expensive reads everybody may run at once "
                                       "per worker; more are answered 503")

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("SECRETARIAT_SECRET_KEY must be at least 32 bytes; "
                             "make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        return value

    @field_validator("reminder_time")
    @classmethod
    def _local_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("give the local time of day without an offset, e.g. 09:00 (it is read in "
                             "SECRETARIAT_TIMEZONE)")
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

    @field_validator("smtp_url")
    @classmethod
    def _smtp_server(cls, value: SecretStr | None) -> SecretStr | None:
        from scheduler.channels import SmtpServer

        if value is not None:
            SmtpServer.from_url(value.get_secret_value())  # its errors never repeat the URL (a password)
        return value

    @field_validator("webhook_url", "base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
            raise ValueError("give an http:// or https:// URL with a host")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        from api.client_address import parse_trusted_proxies

        parse_trusted_proxies(value)  # raises ValueError naming the bad entry
        return value

    @property
    def trusted_proxy_networks(self) -> tuple:
        from api.client_address import parse_trusted_proxies

        return parse_trusted_proxies(self.trusted_proxies)

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_signed(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        secret = value.get_secret_value().encode() if value is not None else b""
        if (info.data.get("webhook_url") or value is not None) and len(secret) < 32:
            raise ValueError("SECRETARIAT_WEBHOOK_URL needs SECRETARIAT_WEBHOOK_SECRET, at least 32 bytes, for the "
                             "receiver to check signatures with; make one with: "
                             "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
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
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a folder made for the data is owner-only
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
