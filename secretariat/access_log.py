"""The access log never shows a token: calendar feed URLs carry theirs in the query (`?token=...`)."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

# A query parameter: its name and its value, up to the next separator.
_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s\"]*)=(?P<value>[^&;#\s\"]*)")
REDACTED = "REDACTED"


def redact_tokens(text: str) -> str:
    """`text` with the value of every query parameter whose name ends in "token" replaced.

    The name is compared decoded, so `%74oken=` cannot slip a token past; `access_token` goes too.
    """
    def replace(match: re.Match) -> str:
        if not unquote(match["name"]).lower().endswith("token"):
            return match[0]
        return f"{match['lead']}{match['name']}={REDACTED}"

    return _PARAMETER.sub(replace, text) if "=" in text else text


class RedactTokens(logging.Filter):
    """Redacts tokens in a record's message and in its string arguments (uvicorn passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_tokens_in_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install the filter on the access logger, once however often the application is built."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
