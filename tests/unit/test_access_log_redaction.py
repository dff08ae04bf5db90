"""The access log never shows a token that rode in a URL's query."""

from __future__ import annotations

import io
import logging

from secretariat.access_log import RedactTokens, redact_tokens, redact_tokens_in_access_log

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzYXJhIn0.c2lnbmF0dXJl"


def access_record(path: str) -> logging.LogRecord:
    """A record as uvicorn's access logger makes it: the path is one of the arguments."""
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                             ("127.0.0.1:50000", "GET", path, "1.1", 200), None)


def test_the_filter_redacts_the_token_in_an_access_record_and_keeps_the_rest():
    record = access_record(f"/calendar.ics?mine=true&token={TOKEN}")
    assert RedactTokens().filter(record) is True
    assert record.getMessage() == '127.0.0.1:50000 - "GET /calendar.ics?mine=true&token=REDACTED HTTP/1.1" 200'


def test_every_parameter_named_token_is_redacted_however_it_is_spelled():
    assert redact_tokens(f"/calendar.ics?token={TOKEN}&mine=true") == "/calendar.ics?token=REDACTED&mine=true"
    assert redact_tokens(f"/x?access_token={TOKEN}") == "/x?access_token=REDACTED"
    assert redact_tokens(f"/x?%74oken={TOKEN}") == "/x?%74oken=REDACTED"
    assert redact_tokens(f"/x?TOKEN={TOKEN}") == "/x?TOKEN=REDACTED"


def test_urls_without_a_token_are_left_as_they_are():
    for text in ("/tasks?state=open&limit=50", "/calendar.ics", "/x?tokens=1", "/x?mytoken_hint=1", "a=b"):
        assert redact_tokens(text) == text


def test_installed_on_a_logger_it_redacts_what_its_handlers_write_and_is_installed_once():
    logger = logging.getLogger("test.access.redaction")
    written = io.StringIO()
    logger.addHandler(logging.StreamHandler(written))
    logger.propagate = False
    logger.setLevel(logging.INFO)
    redact_tokens_in_access_log(logger.name)
    redact_tokens_in_access_log(logger.name)
    assert sum(isinstance(f, RedactTokens) for f in logger.filters) == 1

    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", f"/calendar.ics?token={TOKEN}", "1.1", 200)
    assert TOKEN not in written.getvalue() and "/calendar.ics?token=REDACTED" in written.getvalue()
