"""Browser tests: a real uvicorn server in a subprocess, over a seeded SQLite file, driven by chromium.

The server is the product's own app (`secretariat.server:api_from_settings`), pages included.
Chromium is Debian's (/usr/bin/chromium), driven through Playwright's sync API.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from datetime import timedelta
from typing import Iterator
from uuid import NAMESPACE_URL, uuid5

import pytest
from argon2 import PasswordHasher

from secretariat.bootstrap import Argon2Hasher, build_application
from secretariat.demo import seed
from secretariat.settings import Settings
from tests.factories import ERIK

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECRET_KEY = "browser-tests-only-" + "x" * 32
# Live work on top of the demo's imported history: a task erik gives sara, due three days ago. The demo's own overdue
# work is imported, and rungs that fell due before an import raise no reminder (issue 13); this one is recorded live,
# so the served scheduler raises its overdue reminder on its first tick, and an e-mail delivery with it.
LIVE_OVERDUE = uuid5(NAMESPACE_URL, "secretariat:browser-tests:live-overdue-task")
LIVE_OVERDUE_TITLE = "Send the updated agreements catalogue to the Parties"


def record_live_overdue_task(service) -> None:
    today = service.clock().astimezone(service.tz).date()
    service.create_task(ERIK, {"title": LIVE_OVERDUE_TITLE, "assignee": "sara", "due": today - timedelta(days=3)},
                        item_id=LIVE_OVERDUE)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    """Until /health answers with the read models caught up on the demo data."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200 and json.load(response).get("projection_lag") == 0:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server at {url} was not up with its read models caught up within {seconds} s")


@contextmanager
def serving_demo(folder: Path) -> Iterator[str]:
    """A real uvicorn process serving the pages over a SQLite file in `folder` seeded with the demo data."""
    database_url, log = f"sqlite:///{folder / 'secretariat.db'}", folder / "server.log"
    # The demo users' hashes are real Argon2id at a low cost (the hash carries it), so signing in stays quick.
    service = build_application(Settings(database_url=database_url),
                                hasher=Argon2Hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)))
    seed(service)
    record_live_overdue_task(service)
    service.close()
    port = _free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "secretariat.server:api_from_settings", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
            env={**os.environ, "SECRETARIAT_DATABASE_URL": database_url, "SECRETARIAT_SECRET_KEY": SECRET_KEY})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    # Whatever the pages were sent, the server never failed on it.
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo served for the whole session (a module that must start from the demo as seeded serves its own)."""
    with serving_demo(tmp_path_factory.mktemp("browser")) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium; without it the tests skip on a developer machine and fail in CI (CI=true)."""
    if not CHROMIUM.exists():
        message = f"chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true makes the browser tests mandatory", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, server_url):
    """A fresh browser profile per test: no cookie carries over."""
    context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def sign_in(page, username: str, password: str | None = None) -> None:
    """Sign in through the form (demo passwords are the usernames) and land on the overview."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password if password is not None else username)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
