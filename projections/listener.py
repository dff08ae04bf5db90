"""On PostgreSQL, the store's NOTIFY turned into the follower's wake-up."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from domain.application import SecretariatApplication

log = logging.getLogger("secretariat.projections")


class StoreListener:
    """On PostgreSQL, turns the store's NOTIFY into a wake-up, so new events are seen at once."""

    def __init__(self, close: Callable[[], None] = lambda: None) -> None:
        self.close = close

    @classmethod
    def for_app(cls, app: SecretariatApplication, wake: threading.Event) -> "StoreListener":
        channel = getattr(app.recorder, "channel_name", None)
        if channel is None:
            return cls()  # SQLite: the API wakes the runner after each command (in process, or through serve's
            # wake channel, secretariat/wake_channel.py), and polling covers the rest
        import psycopg
        from psycopg import sql

        env = app.env
        conn = psycopg.connect(dbname=env.get("POSTGRES_DBNAME"), host=env.get("POSTGRES_HOST"),
                               port=env.get("POSTGRES_PORT"), user=env.get("POSTGRES_USER"),
                               password=env.get("POSTGRES_PASSWORD") or None, autocommit=True)
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        stopped = threading.Event()

        def listen() -> None:
            while not stopped.is_set():
                try:
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        wake.set()
                except psycopg.Error:
                    if not stopped.is_set():
                        log.warning("lost the PostgreSQL LISTEN connection; falling back to polling")
                    return

        thread = threading.Thread(target=listen, name="projection-listen", daemon=True)
        thread.start()

        def close() -> None:
            stopped.set()
            thread.join(timeout=2)
            conn.close()

        return cls(close)
