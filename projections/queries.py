"""Questions the read models answer: lists, counts, progress, deadlines. Never a replay."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Mapping

from eventsourcing.persistence import Transcoder
from sqlalchemy import Engine, and_, func, select

from domain.actor import Actor
from domain.application import AGGREGATES
from domain.errors import Forbidden
from domain.item import WorkflowItem
from projections.items import (FILTER_COLUMNS, bucket_seconds, deadlines, item_counts, items, restore,
                               state_durations)


class ReadModels:
    def __init__(self, engine: Engine, transcoder: Transcoder) -> None:
        self.engine = engine  # a reader engine (see projections.database)
        self.transcoder = transcoder

    def list_items(self, collection: str, actor: Actor, filters: Mapping[str, Any], *, limit: int = 50,
                   offset: int = 0) -> tuple[list[WorkflowItem], int]:
        """A page of the items the actor may read, newest first, and how many match in all."""
        workflow = AGGREGATES[collection].workflow
        scope = workflow.read_scope(actor)
        if scope is None:
            raise Forbidden(f"reading {collection} needs one of: {', '.join(workflow.readers)}")
        conditions = [items.c.collection == collection]
        conditions += [items.c[name] == value for name, value in {**filters, **scope}.items()
                       if name in FILTER_COLUMNS]
        if any(name in filters and filters[name] != value for name, value in scope.items()):
            return [], 0  # e.g. a liaison filtering on another Party
        where = and_(*conditions)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(items).where(where)).scalar_one()
            rows = conn.execute(select(items).where(where).order_by(items.c.created_position.desc())
                                .limit(limit).offset(offset)).all()
        return [restore(row, self.transcoder) for row in rows], total

    def counts(self) -> dict[str, dict[str, int]]:
        """Items per collection and state."""
        found: dict[str, dict[str, int]] = {c: {s: 0 for s in cls.workflow.states} for c, cls in AGGREGATES.items()}
        with self.engine.connect() as conn:
            for row in conn.execute(select(item_counts)):
                found.setdefault(row.collection, {})[row.state] = row.n
        return found

    def time_in_state(self) -> dict[str, dict[str, dict[str, float]]]:
        """Per collection and state: how many stays ended, and their median and 90th percentile in seconds.

        Read from a histogram of quarter-doublings, so each figure is within 9% of the exact one.
        """
        histograms: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        with self.engine.connect() as conn:
            for row in conn.execute(select(state_durations).order_by(state_durations.c.bucket)):
                histograms[(row.collection, row.state)].append((row.bucket, row.n))
        found: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
        for (collection, state), buckets in histograms.items():
            samples = sum(n for _, n in buckets)
            found[collection][state] = {"samples": samples,
                                        "median_seconds": _percentile_seconds(buckets, samples, 0.5),
                                        "p90_seconds": _percentile_seconds(buckets, samples, 0.9)}
        return found

    def mandate_progress(self, mandate_ids: list[str]) -> dict[str, dict[str, int]]:
        """For each mandate, its linked tasks by state."""
        progress: dict[str, dict[str, int]] = defaultdict(dict)
        if not mandate_ids:
            return progress
        query = (select(items.c.mandate_id, items.c.state, func.count()).where(
            items.c.collection == "tasks", items.c.mandate_id.in_(mandate_ids))
            .group_by(items.c.mandate_id, items.c.state))
        with self.engine.connect() as conn:
            for mandate_id, state, n in conn.execute(query):
                progress[mandate_id][state] = n
        return progress

    def open_deadlines(self, *, due_before: date | None = None, due_from: date | None = None,
                       limit: int = 200) -> list[dict[str, Any]]:
        """Open deadlines, soonest first."""
        query = select(deadlines).where(deadlines.c.open.is_(True))
        if due_before is not None:
            query = query.where(deadlines.c.due < due_before)
        if due_from is not None:
            query = query.where(deadlines.c.due >= due_from)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query.order_by(deadlines.c.due).limit(limit))]

    def dashboard(self, actor: Actor, today: date, *, horizon_days: int = 14) -> dict[str, Any]:
        """Counts by collection and state, overdue items, deadlines ahead, and each active mandate's progress.

        Only what the actor may read: collections they may not list are left out, and a
        Party liaison's deadlines are their own Party's.
        """
        scopes = {c: cls.workflow.read_scope(actor) for c, cls in AGGREGATES.items()}
        visible = lambda d: scopes[d["collection"]] is not None and all(  # noqa: E731
            d.get(k) == v for k, v in scopes[d["collection"]].items())
        counts = {c: n for c, n in self.counts().items() if scopes[c] == {}}
        active_states = [s for s in AGGREGATES["mandates"].workflow.states
                         if s not in AGGREGATES["mandates"].workflow.terminal]
        if scopes["mandates"] != {}:
            mandates = []
        else:
            with self.engine.connect() as conn:
                mandates = conn.execute(select(items.c.id, items.c.state, items.c.fields).where(
                    items.c.collection == "mandates", items.c.state.in_(active_states))
                    .order_by(items.c.created_position.desc())).all()
        progress = self.mandate_progress([m.id for m in mandates])
        time_in_state = {c: states for c, states in self.time_in_state().items() if scopes[c] == {}}
        return {
            "counts": counts,
            "time_in_state": time_in_state,
            "overdue": [_deadline(d) for d in self.open_deadlines(due_before=today) if visible(d)],
            "upcoming": [_deadline(d) for d in self.open_deadlines(
                due_from=today, due_before=today + timedelta(days=horizon_days + 1)) if visible(d)],
            "mandates": [{"id": m.id, "reference": self.transcoder.decode(m.fields.encode()).get("reference"),
                          "state": m.state, **progress_summary(progress.get(m.id, {}))} for m in mandates],
        }


def progress_summary(tasks_by_state: Mapping[str, int]) -> dict[str, Any]:
    """`{"tasks": {...}, "open": N, "done": N, "percent_done": X}`; cancelled tasks count as neither."""
    terminal = AGGREGATES["tasks"].workflow.terminal
    done = tasks_by_state.get("done", 0)
    open_ = sum(n for state, n in tasks_by_state.items() if state not in terminal)
    counted = done + open_
    return {"tasks": dict(tasks_by_state), "open": open_, "done": done,
            "percent_done": round(100 * done / counted, 1) if counted else 0.0}


def _percentile_seconds(buckets: list[tuple[int, int]], samples: int, quantile: float) -> float:
    needed, seen = quantile * samples, 0
    for bucket, n in buckets:
        seen += n
        if seen >= needed:
            return round(bucket_seconds(bucket), 1)
    return round(bucket_seconds(buckets[-1][0]), 1)


def _deadline(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"item_id": row["item_id"], "collection": row["collection"], "kind": row["kind"], "due": row["due"],
            "title": row["title"], "assignee": row["assignee"]}
