"""Sign-in under a password-guessing flood: a legitimate user's sign-in + GET /tasks latency.

Starts a real `secretariat serve` (SQLite, production Argon2 settings, 127.0.0.1 trusted as a
proxy so X-Forwarded-For gives each attacker its own addresses), then:

1. floor: the legitimate user (sara, from 192.0.2.1) signs in and does GET /tasks in a loop,
   alone, for --seconds;
2. attack: the same, while --attackers clients (in a separate process, so they do not share the
   measuring client's interpreter) post wrong passwords as fast as they are answered, each from
   its own few addresses, for usernames drawn from the demo users (sara included) and made-up ones.

Prints p50/p99/max of the legitimate user's sign-in + GET beside the floor, the attackers'
answers by status, and the server's peak memory. Asserts nothing; the goal is p99 under 1 s.

    .venv/bin/python bench/sign_in.py [--attackers 64] [--seconds 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_servers import free_port, tree_cpu_seconds  # noqa: E402
from shared import load_average, log, percentile, table  # noqa: E402

SECRETARIAT = Path(sys.executable).parent / "secretariat"
LEGITIMATE = ("sara", "sara", "192.0.2.1")
TARGETS = ["admin", "sara", "hana", "erik", "alba", "milan", "audrey", "root", "administrator", "test"]


def serve(folder: Path) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETARIAT_")}
    env.update(SECRETARIAT_DATABASE_URL=f"sqlite:///{folder}/bench.db",
               SECRETARIAT_SECRET_KEY=secrets.token_urlsafe(48), SECRETARIAT_TRUSTED_PROXIES="127.0.0.1")
    subprocess.run([str(SECRETARIAT), "demo"], env=env, cwd=folder, check=True, capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(SECRETARIAT), "serve", "--port", str(port)], env=env, cwd=folder,
                            stdout=(folder / "server.log").open("wb"), stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not start; see {folder / 'server.log'}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def legitimate_user(base: str, seconds: float) -> tuple[list[float], Counter, list[float]]:
    """Seconds per sign-in + GET /tasks, the answers that were not 200, and the sign-ins' share alone."""
    username, password, address = LEGITIMATE
    latencies, errors, sign_ins = [], Counter(), []
    with httpx.Client(base_url=base, timeout=60, headers={"X-Forwarded-For": address}) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.perf_counter()
            signed_in = client.post("/auth/token", data={"username": username, "password": password})
            sign_ins.append(time.perf_counter() - start)
            if signed_in.status_code != 200:
                errors[f"sign-in {signed_in.status_code}"] += 1
                continue
            tasks = client.get("/tasks", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
            if tasks.status_code != 200:
                errors[f"GET /tasks {tasks.status_code}"] += 1
                continue
            latencies.append(time.perf_counter() - start)
    return latencies, errors, sign_ins


def attacker(base: str, index: int, stop: threading.Event, answers: Counter) -> None:
    rng = random.Random(index)
    addresses = [f"10.{index}.{n}.{rng.randrange(1, 255)}" for n in range(3)]
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.is_set():
            try:
                answer = client.post("/auth/token", data={"username": rng.choice(TARGETS), "password":
                                                          secrets.token_hex(8)},
                                     headers={"X-Forwarded-For": rng.choice(addresses)})
                answers[answer.status_code] += 1
            except httpx.HTTPError as error:
                answers[type(error).__name__] += 1


def attack(base: str, attackers: int, seconds: float, nice: int, results) -> None:
    """Runs in its own process: `attackers` threads hammering wrong passwords for `seconds`."""
    os.nice(nice)
    stop, answers = threading.Event(), Counter()
    threads = [threading.Thread(target=attacker, args=(base, i, stop, answers), daemon=True) for i in range(attackers)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=70)
    results.put(dict(answers))


def phase_row(name: str, latencies: list[float], errors: Counter, sign_ins: list[float], peak: float) -> list[str]:
    ms = lambda values, q: f"{percentile(values, q) * 1000:.0f}"  # noqa: E731
    return [name, str(len(latencies)), ms(latencies, 0.5), ms(latencies, 0.99), ms(latencies, 1.0),
            ms(sign_ins, 0.5), ms(sign_ins, 0.99),
            ", ".join(f"{k}: {v}" for k, v in errors.items()) or "none", f"{peak:.0f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attackers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--attacker-nice", type=int, default=10, help="the attackers' process runs at this nice "
                        "value: on one machine their own client CPU, which in real life is theirs, would otherwise "
                        "weigh on the server (0: none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sign-in-") as tmp:
        proc, base = serve(Path(tmp))
        try:
            log(f"serving at {base}; load average before: {load_average()}")
            peak = [rss_mib(proc.pid)]
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.is_set():
                    peak[0] = max(peak[0], rss_mib(proc.pid))
                    time.sleep(0.2)

            threading.Thread(target=sample, daemon=True).start()
            legitimate_user(base, 2.0)  # warm-up: also makes sara's address a known pair, as in real use
            log(f"floor: the legitimate user alone for {args.seconds:g} s")
            floor, floor_errors, floor_sign_ins = legitimate_user(base, args.seconds)
            floor_peak, peak[0] = peak[0], rss_mib(proc.pid)
            log(f"attack: {args.attackers} attackers for {args.seconds:g} s")
            results = multiprocessing.get_context("spawn").Queue()
            attackers = multiprocessing.get_context("spawn").Process(
                target=attack, args=(base, args.attackers, args.seconds + 2, args.attacker_nice, results))
            cpu_before = tree_cpu_seconds(proc.pid)
            attackers.start()
            time.sleep(1.0)  # let the flood start before measuring
            attacked, attacked_errors, attacked_sign_ins = legitimate_user(base, args.seconds)
            answers = results.get(timeout=120)
            attackers.join()
            server_cpu = tree_cpu_seconds(proc.pid) - cpu_before
            sampling.set()
            print(f"sign-in + GET /tasks of one legitimate user, {args.attackers} attackers (nice "
                  f"{args.attacker_nice}), {args.seconds:g} s per phase; load average after: {load_average()}")
            print(table(["phase", "n", "p50 ms", "p99 ms", "max ms", "sign-in p50", "sign-in p99", "legitimate errors",
                         "peak RSS MiB"],
                        [phase_row("floor (no attackers)", floor, floor_errors, floor_sign_ins, floor_peak),
                         phase_row("under attack", attacked, attacked_errors, attacked_sign_ins, peak[0])]))
            total = sum(answers.values())
            print(f"attackers' answers: {total} in {args.seconds + 2:g} s ({total / (args.seconds + 2):.0f}/s): " +
                  ", ".join(f"{k}: {v}" for k, v in sorted(answers.items(), key=lambda kv: str(kv[0]))) +
                  f"; server CPU during the attack: {server_cpu:.1f} s ({server_cpu / (args.seconds + 1) * 100:.0f}% of "
                  f"one core)")
        finally:
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    main()
