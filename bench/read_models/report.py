"""The report: what each store's run gathered (`StoreReport`), and the tables printed from it, with the goals."""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from dataclasses import dataclass, field

from lag import LagResult
from projections.runner import ProjectionRunner
from reads import ReadResult, percentile
from rebuild import RebuildResult
from shared import table
from stores import History

GOALS = {"rebuild": {"SQLite": 3.0, "PostgreSQL": 8.0}, "lag_p99_ms": 1000.0, "read_p99_ms": 20.0}


@dataclass
class StoreReport:
    name: str
    skipped: str | None = None
    history: History | None = None
    topped: History | None = None
    rebuild: RebuildResult | None = None
    reads: list[ReadResult] = field(default_factory=list)
    backlog_catch_up: str = ""
    read_note: str = ""
    lag: LagResult | None = None
    alone: LagResult | None = None  # --diagnose: the same write load with no follower
    profile: str = ""
    failures: list[str] = field(default_factory=list)


def _verdict(value: float, goal: float) -> str:
    return "met" if value <= goal else "NOT met"


def report_generation(reports: list[StoreReport], args: argparse.Namespace) -> str:
    rows = []
    for r in reports:
        for label, h in (("history", r.history), ("+ backlog", r.topped)):
            if h is None:
                continue
            took = "cached" if h.cached else f"{h.seconds:.0f} s"
            rows.append([r.name, label, f"{h.events:,}", f"{h.items:,}", took, h.how])
    fast = (" PostgreSQL's generating connections ran with synchronous_commit=off (PGOPTIONS; --no-fast-pg-generate"
            " turns it off); nothing measured runs on them." if args.fast_pg_generate else "")
    return ("0. The stores (seed {}; a SQLite file is cached in {} between runs, keyed by the sizes, seed and the "
            "domain's code).{}\n\n".format(args.seed, args.cache_dir, fast)
            + table(["store", "stage", "events", "items", "made in", "how"], rows))


def report_rebuild(reports: list[StoreReport], args: argparse.Namespace) -> str:
    rows, notes = [], []
    for r in reports:
        if r.rebuild is None:
            continue
        res = r.rebuild
        goal = GOALS["rebuild"]["PostgreSQL" if r.name.startswith("PostgreSQL") else "SQLite"]
        med = statistics.median(res.rebuild)
        cpu = {what: statistics.median(times) if times else float("nan") for what, times in res.cpu.items()}
        rows.append([r.name, "rebuild", f"{res.events:,}", f"{med:.2f}", f"{cpu['rebuild']:.2f}",
                     f"{res.events / med:,.0f}", f"<= {goal:.0f} s", _verdict(med, goal)])
        notes.append(f"{r.name} rebuild runs: " + " / ".join(f"{s:.2f}" for s in res.rebuild) + " s")
        floor = statistics.median(res.floor)
        rows.append([r.name, "floor: read, decode, apply; no view", f"{res.events:,}", f"{floor:.2f}",
                     f"{cpu['floor']:.2f}", f"{res.events / floor:,.0f}", "-", "-"])
        raw = statistics.median(res.raw_floor)
        rows.append([r.name, "raw floor: SELECT + orjson.loads", f"{res.events:,}", f"{raw:.2f}",
                     f"{cpu['raw floor']:.2f}", f"{res.events / raw:,.0f}", "-", "-"])
        write = statistics.median(res.write_floor)
        rows.append([r.name, "write floor: the view's rows, inserts only", f"{res.events:,}", f"{write:.2f}",
                     f"{cpu['write floor']:.2f}", f"{res.events / write:,.0f}", "-", "-"])
        notes.append(f"{r.name}: floor + write floor {floor + write:.2f} s (the two in turn; a rebuild overlaps them "
                     f"only where the driver or the database server works without this process's GIL)")
        notes.append(f"{r.name}: rebuild / floor {med / floor:.2f}, rebuild / raw floor {med / raw:.2f}, "
                     f"floor / raw floor {floor / raw:.2f}; the view's writes (rebuild - floor) {med - floor:.2f} s. "
                     f"In CPU seconds: rebuild / floor {cpu['rebuild'] / cpu['floor']:.2f}, rebuild / raw floor "
                     f"{cpu['rebuild'] / cpu['raw floor']:.2f}")
        notes.append(f"{r.name} floor runs: " + " / ".join(f"{s:.2f}" for s in res.floor) + " s; raw floor runs: "
                     + " / ".join(f"{s:.2f}" for s in res.raw_floor) + " s; write floor runs: "
                     + " / ".join(f"{s:.2f}" for s in res.write_floor) + " s")
        for size, times in res.catch_up.items():
            if not times:  # --skip-catch-up
                continue
            m = statistics.median(times)
            rows.append([r.name, f"catch_up from zero, batch {size}", f"{res.events:,}", f"{m:.2f}", "-",
                         f"{res.events / m:,.0f}", "-", "-"])
            notes.append(f"{r.name} catch_up batch {size} runs: " + " / ".join(f"{s:.2f}" for s in times) + " s")
    how = " ".join((ProjectionRunner.rebuild.__doc__ or "").split("\n\n")[0].split())
    title = (f"1. Rebuild and catch-up of the items view over the history (median of {args.runs} runs, taken in "
             f"turns). rebuild: ProjectionRunner.rebuild over the full view, which says: \"{how}\" catch_up: "
             "ProjectionRunner.catch_up from an emptied view at position 0, a transaction per batch. floor: what "
             "any rebuild applying the domain's events spends before writing a row (rebuild.time_floor). raw floor: "
             "a plain SELECT of every stored event row and orjson.loads of each state, no library, no writes "
             "(rebuild.time_raw_floor). write floor: every row the rebuild wrote, inserted again into empty copies "
             "by the rebuild's own insert_rows (executemany on SQLite, COPY on PostgreSQL), one transaction, no Python "
             "work of the view's (rebuild.time_write_floor). All measured in the same runs, in turns")
    title += (". cpu s: this process's CPU seconds, all threads (not the database server's), median: steadier than "
              "the seconds on a shared machine")
    return title + "\n\n" + table(["store", "what", "events", "seconds", "cpu s", "events/s", "goal", "verdict"],
                                  rows) + \
        "\n\n" + "\n".join(notes)


def report_lag(reports: list[StoreReport], args: argparse.Namespace) -> str:
    rows, notes = [], []
    for r in reports:
        lag = r.lag
        if lag is None:
            continue
        ms = [x * 1000 for x in lag.lag_s]
        p99 = percentile(ms, 0.99)
        rows.append([r.name, f"{lag.commands:,}", f"{lag.rate:,.0f}", f"{percentile(ms, 0.5):.0f}", f"{p99:.0f}",
                     f"{max(ms or [float('nan')]):.0f}", percentile(lag.lag_events, 0.5),
                     percentile(lag.lag_events, 0.99), max(lag.lag_events or [0]),
                     f"{percentile(lag.command_s, 0.5) * 1000:.1f} / {percentile(lag.command_s, 0.99) * 1000:.1f}",
                     "< 1000 ms", _verdict(p99, GOALS["lag_p99_ms"] - 1e-9) if ms else "-"])
        per_batch = lag.events / lag.batches if lag.batches else 0
        notes.append(f"{r.name}: {len(ms):,} saves timed ({lag.unseen} never seen within 60 s after the load), "
                     f"{lag.refused} commands refused by a rule, {lag.late_starts} started > 50 ms late; the follower "
                     f"ran {lag.batches:,} batches ({per_batch:.1f} events each, {lag.busy * 1000 / max(lag.batches, 1):.1f}"
                     f" ms each on average, busy {100 * lag.busy / lag.seconds if lag.seconds else 0:.0f}% of the time); "
                     f"{lag.polls:,} position polls")
        if r.alone:
            a = r.alone
            notes.append(f"{r.name}, the same load with no follower (--diagnose): {a.rate:,.0f} commands/s, command "
                         f"p50 {percentile(a.command_s, 0.5) * 1000:.1f} ms, p99 {percentile(a.command_s, 0.99) * 1000:.1f}"
                         f" ms, {a.late_starts} started > 50 ms late")
    title = (f"2. Lag of the items view under a steady write load: a writer thread issues {args.rate:.0f} "
             f"commands/s (open loop) for {args.lag_seconds:.0f} s while runner.follow(stop) runs in another thread "
             f"of the same process, wired by build_projections (wake-up on each save; LISTEN/NOTIFY on PostgreSQL); "
             f"lag = from each save (service.on_recorded) to the first poll (every {args.poll_ms:g} ms, from a "
             "separate process, so the polling takes no GIL time from the writer or the follower) that shows the view's tracking position at or past it; events = how far the view was "
             "behind at that save")
    headers = ["store", "commands", "cmd/s", "lag p50 ms", "p99 ms", "max ms", "events p50", "p99", "max",
               "command p50/p99 ms", "goal p99", "verdict"]
    return title + "\n\n" + table(headers, rows) + "\n\n" + "\n".join(notes)


def report_reads(reports: list[StoreReport], args: argparse.Namespace) -> str:
    rows, notes = [], []
    for r in reports:
        if not r.reads or not r.topped:
            continue
        for res in r.reads:
            p99 = res.pct(0.99)
            part_row = res.name.startswith("  part:")
            rows.append([r.name, res.name, f"{res.pct(0.5):.2f}", f"{p99:.2f}", f"{max(res.latencies) * 1000:.2f}",
                         "" if part_row else res.shape, "-" if part_row else "<= 20 ms",
                         "-" if part_row else _verdict(p99, GOALS["read_p99_ms"])])
        t = r.topped
        tasks = {s: n for (c, s), n in t.expected().items() if c == "tasks"}
        notes.append(f"{r.name}: {t.items:,} items ({', '.join(f'{c} {n:,}' for c, n in _by_collection(t).items())}) "
                     f"from {t.events:,} events; tasks by state: {', '.join(f'{s} {n:,}' for s, n in tasks.items())}; "
                     f"the follower's catch-up before the reads: {r.backlog_catch_up}"
                     + (f"; {r.read_note}" if r.read_note else ""))
    title = (f"3. Reads with the topped-up store, no write load: p50/p99/max of {args.read_calls} calls each, "
             "taken in turns after 10 untimed calls each, through ReadModels on a reader engine")
    return title + "\n\n" + table(["store", "call", "p50 ms", "p99 ms", "max ms", "answer", "goal p99", "verdict"],
                                  rows) + "\n\n" + "\n".join(notes)


def _by_collection(history: History) -> dict[str, int]:
    out: Counter = Counter()
    for (collection, _state), n in history.expected().items():
        out[collection] += n
    return dict(out)
