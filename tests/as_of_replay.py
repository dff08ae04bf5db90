"""The dashboard as it was at a past instant, by replaying the log into a private in-memory items view.

This was the product's answer to `GET /dashboard?as_of=` until the items view kept its own
history (projections/item_history.py, read by projections/as_of.py). It stays here as the
oracle the history is checked against: it cannot be wrong in the same way, because it
derives the answer from the events alone, with the live dashboard's own query.
"""

from __future__ import annotations

from datetime import datetime
from itertools import takewhile
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from domain.actor import Actor
from domain.application import SecretariatApplication
from projections.items import ItemsProjection, metadata
from projections.queries import ReadModels

BATCH = 1000


def dashboard_as_of(app: SecretariatApplication, actor: Actor, instant: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Project every event recorded up to `instant` into a private in-memory view, and read its dashboard.

    The log is in the order events were recorded; the replay stops at the first event stamped
    after the instant. The cost grows with the history before the instant (about a second per
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
        replayed = list(takewhile(lambda pair: pair[1].timestamp <= instant, events))
        with engine.begin() as conn:
            for start in range(0, len(replayed), BATCH):
                projection.handle(conn, replayed[start:start + BATCH])
        read_models = ReadModels(engine, app.mapper.transcoder)
        today = instant.astimezone(tz).date()
        return [{**read_models.dashboard(actor, today), "as_of": instant} for actor in actors]
    finally:
        engine.dispose()
