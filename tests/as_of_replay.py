"""The dashboard as it was at a past instant, by replaying the log into a private in-memory items view.

This was the product's answer to `GET /dashboard?as_of=` until the items view kept its own
history (projections/item_history.py, read by projections/as_of.py). It stays here as the
oracle the history is checked against: it cannot be wrong in the same way, because it
derives the answer from the events alone, with the live dashboard's own query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from domain.actor import Actor
from domain.application import SecretariatApplication
from projections.items import ItemsProjection
from projections.items_tables import metadata
from projections.queries import ReadModels

BATCH = 1000


def dashboard_as_of(app: SecretariatApplication, actor: Actor, instant: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Project every event recorded up to `instant` into a private in-memory view, and read its dashboard.

    The log is in the order events were recorded; an import of past records makes that differ from the
    order things happened in (`occurred_at`). The replay applies, in log order, each item's events up to
    its first one that happened after the instant (later ones are its history after it, whatever their
    own `occurred_at` says: a clock that stepped back). The cost grows with the history before the instant (about a second per
    30,000 events here), which suits an auditor's occasional question, not a busy page.
    """
    return dashboards_as_of(app, [actor], instant, tz)[0]


def dashboards_as_of(app: SecretariatApplication, actors: Sequence[Actor], instant: datetime, tz: ZoneInfo,
                     events: Sequence[tuple[int, Any]] | None = None) -> list[dict[str, Any]]:
    """The dashboard as at `instant` for each actor, from one replay; `events`, if given, are the log's
    (position, event) pairs read and decoded beforehand (a test asking at many instants reads them once)."""
    if events is None:
        events = [(n.id, app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(1, 10**9)]
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        metadata.create_all(engine)
        projection = ItemsProjection(app.mapper.transcoder)
        replayed = happened_by(events, instant)
        with engine.begin() as conn:
            for start in range(0, len(replayed), BATCH):
                projection.handle(conn, replayed[start:start + BATCH])
        read_models = ReadModels(engine, app.mapper.transcoder)
        today = instant.astimezone(tz).date()
        return [{**read_models.dashboard(actor, today), "as_of": instant} for actor in actors]
    finally:
        engine.dispose()


def happened_by(events: Sequence[tuple[int, Any]], instant: datetime) -> list[tuple[int, Any]]:
    """The (position, event) pairs of each aggregate up to its first event that happened after `instant`."""
    cut: set[Any] = set()
    found = []
    for position, event in events:
        if event.originator_id in cut:
            continue
        if event.occurred_at > instant:
            cut.add(event.originator_id)
            continue
        found.append((position, event))
    return found
