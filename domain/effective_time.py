"""When a thing happened, beside when it was recorded.

Every event keeps the library's `timestamp` (the instant it was stored: the order of record) and carries
`occurred_at`, the instant the thing it records happened. The two are equal for live commands; a history
imported from the Secretariat's older records sets `occurred_at` in the past. Readers that ask "as things
stood when" (as-of views, time in state, timelines, the reminder ladder) use `occurred_at`.

Events stored before `occurred_at` existed are version 1 of their class: `upcast_v1_v2` reads them with
`occurred_at` equal to their timestamp, which is what it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import ValidationFailed


class EffectiveEvent:
    """Mixed into an aggregate's event base class, which declares `occurred_at: datetime` itself (the library
    makes each event class a dataclass from its own annotations)."""

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["occurred_at"] = state["timestamp"]


class EffectiveTime:
    """Mixed into an aggregate: an event triggered without `occurred_at` happened when it is recorded."""

    @classmethod
    def _create(cls, event_class: Any, **kwargs: Any) -> Any:
        return super()._create(event_class, **_with_occurred_at(event_class, kwargs))  # type: ignore[misc]

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        super().trigger_event(event_class, **_with_occurred_at(event_class, kwargs))  # type: ignore[misc]


def _with_occurred_at(event_class: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    if kwargs.get("timestamp") is None:
        kwargs = {**kwargs, "timestamp": event_class.create_timestamp()}
    if kwargs.get("occurred_at") is None:
        kwargs = {**kwargs, "occurred_at": kwargs["timestamp"]}
    return kwargs


def effective(occurred_at: datetime | None, now: datetime, *, previous: datetime | None) -> datetime:
    """The effective time of a new event recorded at `now`: `occurred_at` if given (an import of past records),
    else `now`. Refused in the future (nobody records what has not happened yet), without a time zone, or before
    the item's previous event (`previous`): an item's history reads in the order it happened."""
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise ValidationFailed("occurred_at", f"{occurred_at.isoformat()} has no time zone; give one "
                                              "(e.g. 2015-05-05T10:00:00+02:00 or ...Z)")
    if occurred_at > now:
        raise ValidationFailed("occurred_at", f"{occurred_at.isoformat()} is in the future (it is now "
                                              f"{now.isoformat(timespec='seconds')}); only what happened is recorded")
    if previous is not None and occurred_at < previous:
        raise ValidationFailed("occurred_at", f"{occurred_at.isoformat()} is before the item's previous event "
                                              f"({previous.isoformat()}); record an item's history in order")
    return occurred_at
