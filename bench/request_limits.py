"""What the request limits (api/limits.py) cost per request: the same app with and without the middleware.

    .venv/bin/python bench/request_limits.py [--requests 5000] [--rounds 5] [--concurrency 1,16]

Requests are driven straight through ASGI in one event loop, so the figure is the middleware's own
work (reading the body, a place in flight, a task with a time limit) with no network or client in
the way. Two apps, each built twice (with and without `RequestLimiter`), taking turns in rounds:
- *bare*: one async route answering a small JSON document, where any overhead shows fully;
- *ours*: the real application's `GET /health` over a fresh SQLite store (a sync route, so a hop
  to the thread pool and a store read), as a real cheap request pays it.
Prints microseconds per request (median of rounds) and the difference; asserts nothing on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[1:1] = [p for p in (str(HERE.parent), str(HERE)) if p not in sys.path]

from fastapi import FastAPI  # noqa: E402

from api.limits import RequestLimiter, RequestLimits  # noqa: E402
from shared import load_average, log, table  # noqa: E402


def bare_app(limited: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping():
        return {"status": "ok"}

    if limited:
        app.add_middleware(RequestLimiter, limits=RequestLimits())
    return app


def our_app(database: Path, limited: bool) -> FastAPI:
    from secretariat.server import api_from_settings
    from secretariat.settings import Settings

    api = api_from_settings(Settings(database_url=f"sqlite:///{database}", secret_key="b" * 48), follow=False)
    if not limited:
        api.user_middleware = [m for m in api.user_middleware if m.cls is not RequestLimiter]
    return api


async def one_request(app, path: str) -> None:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1), "server": ("bench", 80)}
    sent = False
    status = 0

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    assert status == 200, status


async def time_per_request(app, path: str, requests: int, concurrency: int) -> float:
    """Microseconds per request with `concurrency` requests in flight at a time."""
    async def worker(n: int) -> None:
        for _ in range(n):
            await one_request(app, path)

    share = requests // concurrency
    start = time.perf_counter()
    await asyncio.gather(*(worker(share) for _ in range(concurrency)))
    return (time.perf_counter() - start) / (share * concurrency) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="requests per app and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", default="1,16", help="requests in flight at a time, comma-separated")
    args = parser.parse_args()
    log(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        apps = {("bare", "/ping", True): bare_app(True), ("bare", "/ping", False): bare_app(False),
                ("ours", "/health", True): our_app(database, True), ("ours", "/health", False): our_app(database, False)}
        rows = []
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            figures: dict[tuple, list[float]] = {key: [] for key in apps}
            for round_ in range(args.rounds):
                order = list(apps.items())
                for key, app in order if round_ % 2 else order[::-1]:  # taking turns, each order as often
                    asyncio.run(time_per_request(app, key[1], args.requests // 5, concurrency))  # warm-up
                    figures[key].append(asyncio.run(time_per_request(app, key[1], args.requests, concurrency)))
                log(f"concurrency {concurrency}: round {round_ + 1}/{args.rounds} done")
            for name, path in (("bare", "/ping"), ("ours", "/health")):
                with_limits = statistics.median(figures[(name, path, True)])
                without = statistics.median(figures[(name, path, False)])
                rows.append([f"{name} GET {path}", str(concurrency), f"{without:.1f}", f"{with_limits:.1f}",
                             f"{with_limits - without:+.1f}", f"{with_limits / without:.2f}"])
    print(table(["app", "in flight", "µs/request without", "µs/request with limits", "difference µs",
                 "ratio"], rows))
    log(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
