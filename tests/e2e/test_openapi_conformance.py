"""Schemathesis against a live `secretariat serve`: the OpenAPI document tells the truth about every answer.

It runs the `st` command line (pinned in pyproject.toml) against a server of its own on each
store, since its random writes (closed days, sign-in failures, thousands of items) must not meet
the other tests'. Each run signs in up front and sends the bearer token with every request: as
the head, who reads and decides everything, and as a Party liaison, who sees only her own.

Every phase runs, the stateful one too (it follows the document's links: create, then act on
what was created), with the checks the issue names. Excluded, and only these: routes that end
the session being tested with (signing out everywhere), since every later request would then be
a 401 and test nothing.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.conftest import Server, running_server

ST = Path(sys.executable).parent / "st"
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "use_after_free")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
MAX_EXAMPLES = 12  # per operation and phase: about a minute per user and store on 2 cores
ENDS_THE_SESSION = r"^/auth/sign-out"  # sign-out, sign-out-everywhere: the token would stop working
RUN_TIMEOUT = 600


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def own_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(request.param, tmp_path_factory.mktemp(f"schemathesis-{request.param}")) as srv:
        for username in ("hana", "alba"):  # before any run: a run's wrong passwords may throttle sign-in
            srv.token(username)
        yield srv


@pytest.mark.timeout(RUN_TIMEOUT + 60)
@pytest.mark.parametrize("username", ["hana", "alba"], ids=["as-head", "as-liaison"])
def test_schemathesis_finds_no_failure(own_server: Server, username: str, tmp_path: Path) -> None:
    seed = os.environ.get("SCHEMATHESIS_SEED") or str(secrets.randbelow(2**64))
    command = [str(ST), "run", f"{own_server.base_url}/openapi.json",
               "--header", f"Authorization: Bearer {own_server.token(username)}",
               "--checks", ",".join(CHECKS), "--phases", ",".join(PHASES),
               "--max-examples", str(MAX_EXAMPLES), "--seed", seed, "--exclude-path-regex", ENDS_THE_SESSION,
               "--workers", "1", "--request-timeout", "30", "--generation-database", "none", "--no-color"]
    log_offset = len(own_server.log())
    started = time.monotonic()
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    seconds = time.monotonic() - started
    print(f"schemathesis on {own_server.store} as {username}: {seconds:.0f} s, seed {seed}")
    summary = run.stdout[-6000:]
    assert run.returncode == 0, f"schemathesis failed on {own_server.store} as {username} (seed {seed}; " \
                                f"SCHEMATHESIS_SEED={seed} runs it again):\n{summary}\n{run.stderr[-2000:]}"
    assert " passed" in summary, summary  # it ran test cases, not merely nothing
    new_log = own_server.log()[log_offset:]
    assert "Traceback" not in new_log, f"the server logged a traceback:\n{new_log[-5000:]}"
