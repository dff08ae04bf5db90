"""Commenting on items, mixed into the application service: who a comment's `@username` mentions reach.

A mention notifies a user only if they may read the item (an active user whose roles, and Party, let
them): a comment on Albania's request that names Serbia's liaison tells that liaison nothing, and the
author is told only that the name was not notified, exactly as for a name nobody has, so a mention is
no way to learn who exists or who reads what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from uuid import UUID

from domain.actor import Actor
from domain.errors import Conflict
from domain.idempotency import IdempotentOutcome
from domain.item import WorkflowItem

# `@name` not inside a word or an e-mail address (`ana@example.org` mentions nobody); names as users have them.
MENTION_PATTERN = re.compile(r"(?<![\w@.+-])@([a-z][a-z0-9._-]{1,63})\b")
MAX_MENTIONS = 20  # names looked up per comment: each is a load
SAVE_ATTEMPTS = 3


def mentioned_names(text: str) -> list[str]:
    """The usernames a text mentions, each once, in order of first mention (a trailing dot is punctuation)."""
    names = (match.rstrip(".") for match in MENTION_PATTERN.findall(text))
    return list(dict.fromkeys(name for name in names if name))


@dataclass(frozen=True)
class CommentOutcome:
    outcome: IdempotentOutcome
    comment: dict[str, Any]
    not_notified: list[str]  # mentioned names that reached nobody (no such user, or one who may not read the item)


class Commenting:
    # Provided by the application this is mixed into.
    clock: Callable[[], datetime]
    tz: Any
    visible_item: Callable[..., WorkflowItem]
    actor_named: Callable[[str], Actor | None]
    _save_outcome: Callable[..., IdempotentOutcome]

    def comment(self, collection: str, item_id: UUID | str, actor: Actor, text: str) -> CommentOutcome:
        """Comment on an item the actor may act on; the users it mentions who may read the item are notified."""
        mentioned = mentioned_names(text)[:MAX_MENTIONS]
        for attempt in range(SAVE_ATTEMPTS):
            item = self.visible_item(collection, item_id, actor)  # first: nothing below may tell hidden from absent
            notify = [name for name in mentioned if name != actor.username and self._may_read(name, item)]
            now = self.clock()
            comment = item.comment(text, actor, now=now, notify=notify, today=now.astimezone(self.tz).date())
            try:
                outcome = self._save_outcome(item, [], actor, None, "", status=201)
            except Conflict:
                # Another event (an action, a reminder the scheduler raised) took the version: a comment
                # depends on no state of the item, so it is added again to the item as it is now.
                if attempt + 1 == SAVE_ATTEMPTS:
                    raise
                continue
            return CommentOutcome(outcome, comment, [n for n in mentioned if n not in notify and n != actor.username])
        raise AssertionError("unreachable")

    def _may_read(self, username: str, item: WorkflowItem) -> bool:
        reader = self.actor_named(username)
        return reader is not None and item.may_be_read_by(reader)
