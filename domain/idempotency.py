"""Idempotency keys: a request sent again with the same key gets the first answer.

The record is saved in the same transaction as the events it answers for, so an
answer is never recorded without its change, nor a change without its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.cheap_copy import CheapDeepCopy
from domain.effective_time import EffectiveEvent, EffectiveTime
from domain.errors import ValidationFailed


class IdempotencyRecord(CheapDeepCopy, EffectiveTime, Aggregate):
    class Recorded(EffectiveEvent, Aggregate.Created):
        occurred_at: datetime
        username: str
        key: str
        fingerprint: str
        item_id: UUID
        item_version: int
        status: int

    def __init__(self, username: str, key: str, fingerprint: str, item_id: UUID, item_version: int,
                 status: int) -> None:
        self.username = username
        self.key = key
        self.fingerprint = fingerprint
        self.item_id = item_id
        self.item_version = item_version
        self.status = status

    @staticmethod
    def id_for(username: str, key: str) -> UUID:
        """Keys are per user: two users may pick the same key without meeting."""
        return uuid5(NAMESPACE_URL, f"secretariat:idempotency:{username}:{key}")

    @classmethod
    def start(cls, username: str, key: str, fingerprint: str, *, item_id: UUID, version: int, status: int,
              now: datetime) -> "IdempotencyRecord":
        return cls._create(cls.Recorded, id=cls.id_for(username, key), timestamp=now, username=username, key=key,
                           fingerprint=fingerprint, item_id=item_id, item_version=version, status=status)

    def refuse_unless_same(self, fingerprint: str) -> None:
        if fingerprint != self.fingerprint:
            raise ValidationFailed("Idempotency-Key", f"the key {self.key!r} was already used for a different "
                                                      "request; use a new key for a new request")


@dataclass(frozen=True)
class IdempotentOutcome:
    """The item after a command, the status it answered with, whether this is a replay, and
    the log position of its last event (what a reader waits for to read its own write)."""

    item: Aggregate
    status: int
    replayed: bool
    position: int | None = None
