"""What the item page's comments part (api/templates/_comments.html) needs from this package."""

from __future__ import annotations

from jinja2 import Environment
from starlette.requests import Request

from comments.markdown import rendered
from domain.commenting import MAX_MENTIONS, MENTION_PATTERN
from domain.item import MAX_COMMENT_CHARACTERS


def not_notified_names(request: Request) -> list[str]:
    """The names the comment form's redirect says notified nobody: only names a mention could be, the rest dropped
    (the query is the address bar's, so anyone can write one: it shows names, never markup)."""
    given = request.query_params.get("not_notified", "")[:2000]
    return [name for name in given.split(",") if MENTION_PATTERN.fullmatch(f"@{name}")][:MAX_MENTIONS]


def register(env: Environment) -> None:
    """The `markdown` filter, `not_notified(request)` and the comment's length limit, for the pages' templates."""
    env.filters["markdown"] = rendered
    env.globals["not_notified"] = not_notified_names
    env.globals["max_comment_characters"] = MAX_COMMENT_CHARACTERS
