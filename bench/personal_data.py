"""What encrypting personal data costs: registering users (each with an e-mail address) and rebuilding the views.

    .venv/bin/python bench/personal_data.py [--users 1000] [--store sqlite|postgres] [--clear]

`--clear` builds the application without a key store (addresses stored unencrypted, as before
encryption existed): the difference is the cost of the keys and AES-GCM. Argon2 is set to its cheapest
so that password hashing does not hide it. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from argon2 import PasswordHasher  # noqa: E402

from domain.actor import Actor  # noqa: E402
from domain.application import SecretariatApplication  # noqa: E402
from projections.database import engine_for  # noqa: E402
from secretariat.bootstrap import Argon2Hasher, build_projections  # noqa: E402

ADMIN = Actor("admin", frozenset({"admin"}))


def store(kind: str, folder: str) -> dict[str, str]:
    if kind == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder}/bench.db"}
    import psycopg

    schema = f"bench_{uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": "test", "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": "5432", "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": schema}


def application(env: dict[str, str], clear: bool) -> SecretariatApplication:
    hasher = Argon2Hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    if clear:
        return SecretariatApplication(env, hasher=hasher)
    from personal_data.cipher import EncryptedPersonalData
    from personal_data.keys import SqlPersonalKeys

    keys = SqlPersonalKeys(engine_for(dict(env)))
    keys.set_up()
    return SecretariatApplication(env, hasher=hasher, personal_keys=keys, personal_data=EncryptedPersonalData(keys))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--clear", action="store_true", help="no encryption (the baseline)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = store(args.store, folder)
        app = application(env, args.clear)
        started = time.perf_counter()
        for n in range(args.users):
            app.register_user(f"user{n:05d}", "pw", ["secretariat"], email=f"user{n:05d}@bench.example", actor=ADMIN)
        registered = time.perf_counter() - started
        started = time.perf_counter()
        for n in range(args.users):
            app.change_email(f"user{n:05d}", f"new{n:05d}@bench.example", actor=ADMIN)
        changed = time.perf_counter() - started
        _read_models, runner = build_projections(app, env)
        started = time.perf_counter()
        for projection in runner.projections:
            if getattr(projection, "rebuildable", True):
                runner.rebuild(projection)
        rebuilt = time.perf_counter() - started
        mode = "clear" if args.clear else "encrypted"
        print(f"{args.store} {mode}: register {args.users} users {registered:.2f} s "
              f"({args.users / registered:.0f}/s); change {args.users} addresses {changed:.2f} s "
              f"({args.users / changed:.0f}/s); rebuild every view over {2 * args.users} events {rebuilt:.2f} s")
        app.close()
        if args.store == "postgres":
            import psycopg

            with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {env['POSTGRES_SCHEMA']} CASCADE")


if __name__ == "__main__":
    main()
