"""The dashboard as it was at a past instant, by replaying the log into a private in-memory items view.

This was the product's answer to `GET /dashboard?as_of=` until the items view kept its own
history (projections/item_history.py, read by projections/as_of.py). It stays here as the
oracle the history is checked against: it cannot be wrong in the same way, because it
derives the answer from the events alone, with the live dashboard's own query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
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
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        metadata.create_all(engine)
        projection = ItemsProjection(app.mapper.transcoder)
        position, reached = 0, False
        with engine.begin() as conn:
            while not reached:
                notifications = app.recorder.select_notifications(position + 1, BATCH)
                if not notifications:
                    break
                batch = []
                for notification in notifications:
                    event = app.mapper.to_domain_event(notification)
                    if event.timestamp > instant:
                        reached = True
                        break
                    batch.append((notification.id, event))
                projection.handle(conn, batch)
                position = notifications[-1].id
        dashboard = ReadModels(engine, app.mapper.transcoder).dashboard(actor, instant.astimezone(tz).date())
        return {**dashboard, "as_of": instant}
    finally:
        engine.dispose()
