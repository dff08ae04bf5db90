"""Query and path parameter types with their ranges, shared by every route.

A value out of range is a client's mistake and answers 422; without these bounds an instant
near year 1 or 9999 overflowed when converted to UTC or moved by a day, and a huge offset
overflowed the database's 64-bit integers, both as 500s. The ranges are in the OpenAPI
document too, so a generated client knows them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from annotated_types import Interval
from pydantic import AfterValidator, StringConstraints, WithJsonSchema

from domain.errors import ValidationFailed

# Far enough from datetime's limits (years 1 and 9999) that no offset, time zone or horizon of days overflows.
# The bound is on the year as written, offset and all, because that is what the documented pattern can say:
# checked in UTC instead, 8999-12-31T23:59:59-14:00 matched the pattern and was refused all the same.
EARLIEST_YEAR, LATEST_YEAR = 1900, 8999
MAX_OFFSET = 10**9  # rows to skip: far beyond any list, far below a 64-bit integer
MAX_POSITION = 2**63 - 1  # a log position: the largest 64-bit integer both stores hold
MAX_VERSION = 2**31  # an item's version (the bound the API always had)
PAGE_SIZE = 50  # rows on one web page
MAX_PAGE = MAX_OFFSET // PAGE_SIZE

_YEARS = r"(19[0-9]{2}|[2-8][0-9]{3})"  # 1900-8999, as EARLIEST_YEAR and LATEST_YEAR
_INSTANT_PATTERN = (rf"^{_YEARS}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                    r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
_OUT_OF_RANGE = f"must be written with a year from {EARLIEST_YEAR} to {LATEST_YEAR}, whatever its UTC offset"


def _bounded_instant(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a UTC offset, e.g. 2026-05-05T12:00:00+02:00")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(_OUT_OF_RANGE)
    return value


# An instant with its UTC offset, written with a year from 1900 to 8999: as_of, since, until.
Instant = Annotated[datetime, AfterValidator(_bounded_instant), WithJsonSchema({
    "type": "string", "format": "date-time", "pattern": _INSTANT_PATTERN,
    "description": f"ISO 8601 with a UTC offset; {_OUT_OF_RANGE}"})]

# Bounded whole numbers; a route adds its own Query(description=...) around them.
Offset = Annotated[int, Interval(ge=0, le=MAX_OFFSET)]  # rows to skip
Position = Annotated[int, Interval(ge=0, le=MAX_POSITION)]  # a cursor into the log
Version = Annotated[int, Interval(ge=1, le=MAX_VERSION)]


# -- lists: ids, words, several values ---------------------------------------------------------------

MAX_FILTER_VALUES = 20  # values of one filter (state=open&state=blocked...)
MAX_QUERY = 200  # characters of a search
_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_A_WORD = re.compile(r"\w")


def _an_id(value: str) -> str:
    # A filter on a malformed id would find nothing and answer an empty 200: a typo would pass for "none".
    if not _ID.match(value):
        raise ValueError("must be an id: a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6")
    return value.lower()


def _words(value: str) -> str:
    if value.strip() and not _A_WORD.search(value):
        raise ValueError("needs at least one word (letters or digits) to search for")
    return value.strip()


# An item's id in a filter (mandate_id=...): a UUID, else 422.
ItemIdFilter = Annotated[str, AfterValidator(_an_id), WithJsonSchema({"type": "string", "format": "uuid"})]
# Words to search for: at most MAX_QUERY characters; every word must be found (stemmed: "meetings" finds "meeting").
SearchQuery = Annotated[str, StringConstraints(max_length=MAX_QUERY), AfterValidator(_words)]


def limit_up_to(maximum: int) -> type[int]:
    """How many to answer at most: 1 to `maximum` (each list has its own)."""
    return Annotated[int, Interval(ge=1, le=maximum)]  # type: ignore[return-value]


def page_number(text: str) -> int:
    """A web page's `?page=`: 1 when absent, else a whole number from 1 to MAX_PAGE (422 otherwise)."""
    if text == "":
        return 1
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_PAGE))
            and 1 <= int(text) <= MAX_PAGE):
        raise ValidationFailed("page", f"page must be a whole number from 1 to {MAX_PAGE}")
    return int(text)
