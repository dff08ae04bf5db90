"""How fast a past history imports: a generated file of about 5,000 lines, on SQLite and on PostgreSQL.

    .venv/bin/python bench/import_history.py [--lines 5000]

Each mandate: record, start, its tasks (create, start, submit, approve: the mandate hears of each), then
report and fulfil. Prints lines per second for a first import, a re-run (adds nothing) and a dry run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argon2 import PasswordHasher  # noqa: E402

from domain.actor import Actor  # noqa: E402
from domain.application import SecretariatApplication  # noqa: E402
from importing import import_history_text  # noqa: E402
from secretariat.bootstrap import Argon2Hasher  # noqa: E402

TASKS_PER_MANDATE = 10
ADMIN = Actor("admin", frozenset({"admin"}))
CAST = {"sara": ["secretariat"], "hana": ["head"], "erik": ["ewg"]}


def history(lines: int) -> str:
    out, at = [], datetime(2016, 1, 4, 9, 0, tzinfo=timezone.utc)

    def line(ref, collection, action, actor, values=None, reason=None):
        nonlocal at
        at += timedelta(minutes=7)
        out.append(json.dumps({"ref": ref, "collection": collection, "action": action, "actor": actor,
                               "occurred_at": at.isoformat(), "values": values or {}, "reason": reason}))

    run = uuid4().hex[:6]
    m = 0
    while len(out) < lines:
        m += 1
        ref = f"m{m}"
        line(ref, "mandates", "record", "sara", {"reference": f"CoM-{run}/{m}", "title": f"Mandate {m}",
                                                 "decided_on": at.date().isoformat(), "assigned_to": "secretariat",
                                                 "meeting": "CoM"})
        line(ref, "mandates", "start", "sara")
        for t in range(TASKS_PER_MANDATE):
            task = f"{ref}-t{t}"
            line(task, "tasks", "create", "erik", {"title": f"Task {t} of mandate {m}", "assignee": "sara",
                                                   "due": (at + timedelta(days=60)).date().isoformat(),
                                                   "mandate_id": {"$ref": ref}})
            line(task, "tasks", "start", "sara")
            line(task, "tasks", "submit", "sara", {"result": "Done and documented."})
            line(task, "tasks", "approve", "erik")
        line(ref, "mandates", "report", "sara", {"summary": "All tasks done."})
        line(ref, "mandates", "fulfil", "hana")
    return "\n".join(out) + "\n"


def stores(tmp: Path) -> dict[str, dict[str, str]]:
    import psycopg

    schema = f"bench_import_{uuid4().hex[:8]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return {"sqlite": {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp / "events.db")},
            "postgres": {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": "test",
                         "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432", "POSTGRES_USER": "postgres",
                         "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": schema}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    args = parser.parse_args()
    text = history(args.lines)
    count = text.count("\n")
    hasher = Argon2Hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with tempfile.TemporaryDirectory() as tmp:
        for store, env in stores(Path(tmp)).items():
            app = SecretariatApplication(env, hasher=hasher)
            for name, roles in CAST.items():
                app.register_user(name, name + "-password", roles, actor=ADMIN)
            for label, dry_run in (("dry run", True), ("import", False), ("re-run", False)):
                started = time.perf_counter()
                report = import_history_text(app, text, dry_run=dry_run)
                seconds = time.perf_counter() - started
                assert report.ok, report.refusals[:3]
                print(f"{store:8} {label:8} {count} lines, {report.items_imported} items, {report.events} events: "
                      f"{seconds:.2f} s = {count / seconds:,.0f} lines/s")
            if store == "postgres":
                import psycopg
                with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {env['POSTGRES_SCHEMA']} CASCADE")
            app.close()


if __name__ == "__main__":
    main()
