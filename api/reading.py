"""Routes that read across items from the read models: dashboard, mandate progress, metrics."""

from datetime import datetime
from typing import Annotated, Any, Callable, Literal, Mapping, Optional, Protocol

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from pydantic import BaseModel

from api.deps import CurrentActor, ReadModelsDep, RunnerDep, Service
from api.expensive import expensive_read
from api.exports import EXPORT_RESPONSES, dashboard_table, export_response
from api.params import Instant
from api.rendering import JSON
from domain.errors import Forbidden
from projections.as_of import dashboard_as_of
from audit.chain import GENESIS
from audit.store import Head, sealed_head
from projections.queries import progress_summary
from projections.runner import ProjectionRunner, Stats
from scheduler.ticker import TickStats
from scheduler.delivery import attempt_counts
from scheduler.outbox import STATUSES, Outbox


class Progress(BaseModel):
    tasks: dict[str, int]
    open: int
    done: int
    percent_done: float


class Dashboard(BaseModel):
    as_of: Optional[datetime] = None
    counts: dict[str, dict[str, int]]
    time_in_state: dict[str, dict[str, dict[str, float]]]
    overdue: list[dict[str, Any]]
    upcoming: list[dict[str, Any]]
    mandates: list[dict[str, Any]]


class FollowerStats(Protocol):
    """What the deployment's follower did: this process's own counters when it follows (tests, one process),
    or those `serve`'s follower process published (secretariat.follower_stats), for its API workers."""

    def projections(self) -> Mapping[str, Stats]: ...

    def scheduler(self) -> TickStats | None: ...

    def delivery_attempts(self) -> Mapping[tuple[str, str], int]: ...


class ThisProcessStats:
    """The counters of this process's own runner, scheduler and delivery worker."""

    def __init__(self, runner: ProjectionRunner, scheduler: Any) -> None:
        self.runner, self._scheduler = runner, scheduler

    def projections(self) -> Mapping[str, Stats]:
        return self.runner.stats

    def scheduler(self) -> TickStats | None:
        return self._scheduler.stats if self._scheduler is not None else None

    def delivery_attempts(self) -> Mapping[tuple[str, str], int]:
        return attempt_counts.snapshot()


router = APIRouter(tags=["Dashboard"])
METRICS_ROLES = ("admin", "auditor", "head")  # the head reads everything anyway; a Party learns no counts


@router.get("/dashboard", response_model=Dashboard, responses=EXPORT_RESPONSES,
            dependencies=[expensive_read(when_given=("as_of", "format"))])
def dashboard(actor: CurrentActor, service: Service, read_models: ReadModelsDep,
              as_of: Annotated[Optional[Instant], Query(description="The dashboard as it was at this instant "
                                                                      "(ISO 8601 with an offset)")] = None,
              format: Annotated[Optional[Literal["json", "csv", "xlsx"]],
                                Query(description="csv or xlsx: the dashboard as one table in a file")] = None):
    """Counts by collection and state, time in states, overdue items, deadlines in the next 14 days, and each
    active mandate's progress; now, or at a past instant; as JSON, CSV or .xlsx."""
    if as_of is not None:
        board = dashboard_as_of(read_models.engine, actor, as_of, service.tz)
    else:
        board = read_models.dashboard(actor, service.clock().astimezone(service.tz).date())
    if format in ("csv", "xlsx"):
        return export_response("dashboard", format, *dashboard_table(board))
    return JSON(board)


@router.get("/mandates/{item_id}/progress", response_model=Progress, tags=["Mandates"])
def mandate_progress(item_id: str, actor: CurrentActor, service: Service, read_models: ReadModelsDep):
    """The mandate's linked tasks by state, how many are open and done, and the percentage done."""
    mandate = service.get_item("mandates", item_id, actor)
    return JSON(progress_summary(read_models.mandate_progress([str(mandate.id)]).get(str(mandate.id), {})))


@router.get("/metrics", tags=["Operations"], response_class=Response, responses={200: {
    "description": "The Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics(actor: CurrentActor, runner: RunnerDep, request: Request):
    """Prometheus metrics: projection lag, events projected, batch durations, the audit chain's length,
    scheduler ticks, deliveries (admin, auditor, head)."""
    if not any(actor.has_role(role) for role in METRICS_ROLES):
        raise Forbidden("metrics need the admin, auditor or head role")
    follower: FollowerStats = getattr(request.app.state, "follower_stats", None) or ThisProcessStats(
        runner, getattr(request.app.state, "scheduler", None))
    registry = CollectorRegistry()
    registry.register(_ProjectionCollector(runner, follower.projections()))
    if any(p.name == "audit_chain" for p in runner.projections):  # its table exists once the runner set it up
        registry.register(_AuditChainCollector(lambda: sealed_head(runner.reader or runner.engine)))
    ticks = follower.scheduler()
    if ticks is not None:
        registry.register(_SchedulerCollector(ticks))
    if any(p.name == "deliveries" for p in runner.projections):  # its table exists once the runner set it up
        registry.register(_DeliveriesCollector(Outbox(runner.engine, reader=runner.reader),
                                               follower.delivery_attempts()))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _AuditChainCollector:
    """The chain's length counts every event of every Party: here, behind roles, not in /health."""

    def __init__(self, read_head: Callable[[], Head | None]) -> None:
        self.read_head = read_head

    def collect(self):
        head = self.read_head() or Head(0, GENESIS, 0)
        yield GaugeMetricFamily("secretariat_audit_chain_length", "Events sealed into the audit hash chain",
                                value=head.length)
        yield InfoMetricFamily("secretariat_audit_chain_head", "The hash of the chain's last entry",
                               value={"hash": head.hash})


class _ProjectionCollector:
    def __init__(self, runner: ProjectionRunner, stats: Mapping[str, Stats]) -> None:
        self.runner, self.stats = runner, stats

    def collect(self):
        lag = GaugeMetricFamily("secretariat_projection_lag_events", "Events the view is behind the log",
                                labels=["view"])
        at = GaugeMetricFamily("secretariat_projection_position", "The last event the view has projected, "
                               "read from the store (whichever process projected it)", labels=["view"])
        events = CounterMetricFamily("secretariat_projection_events", "Events projected by the follower",
                                     labels=["view"])
        batches = CounterMetricFamily("secretariat_projection_batches", "Batches committed by the follower",
                                      labels=["view"])
        seconds = CounterMetricFamily("secretariat_projection_batch_seconds", "Time spent in batches",
                                      labels=["view"])
        last = GaugeMetricFamily("secretariat_projection_last_batch_seconds", "Duration of the last batch",
                                 labels=["view"])
        head = self.runner.head()
        for view, position in self.runner.positions().items():
            stats = self.stats.get(view)
            lag.add_metric([view], max(0, head - position))
            at.add_metric([view], position)
            if stats:
                events.add_metric([view], stats.events)
                batches.add_metric([view], stats.batches)
                seconds.add_metric([view], stats.total_batch_seconds)
                last.add_metric([view], stats.last_batch_seconds)
        yield from (lag, at, events, batches, seconds, last)


class _SchedulerCollector:
    def __init__(self, stats: TickStats) -> None:
        self.stats = stats

    def collect(self):
        stats = self.stats
        yield CounterMetricFamily("secretariat_scheduler_ticks", "Scheduler ticks run by the follower",
                                  value=stats.ticks)
        yield CounterMetricFamily("secretariat_scheduler_tick_failures", "Scheduler ticks that failed",
                                  value=stats.failures)
        yield CounterMetricFamily("secretariat_reminders_raised", "Reminders raised by the follower",
                                  value=stats.raised)
        yield CounterMetricFamily("secretariat_scheduler_tick_seconds", "Time spent in ticks",
                                  value=stats.total_tick_seconds)
        yield GaugeMetricFamily("secretariat_scheduler_last_tick_seconds", "Duration of the last tick",
                                value=stats.last_tick_seconds)


class _DeliveriesCollector:
    def __init__(self, outbox: Outbox, attempts: Mapping[tuple[str, str], int]) -> None:
        self.outbox, self.attempts = outbox, attempts

    def collect(self):
        rows = GaugeMetricFamily("secretariat_deliveries", "Deliveries in the outbox, read at scrape time",
                                 labels=["channel", "status"])
        counts = self.outbox.counts()
        for channel in sorted({channel for channel, _status in counts}):
            for status in STATUSES:  # zeros too, so that an alert on 'failed' has a series to watch
                rows.add_metric([channel, status], counts.get((channel, status), 0))
        tries = CounterMetricFamily("secretariat_delivery_attempts", "Delivery tries by the follower, by outcome",
                                    labels=["channel", "outcome"])
        for (channel, outcome), n in sorted(self.attempts.items()):
            tries.add_metric([channel, outcome], n)
        yield from (rows, tries)
