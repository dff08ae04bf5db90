"""The items view's own tables (what projections/items.py writes and the readers query), and the histogram's buckets.

The dashboard's history tables, which share this MetaData, are in projections/history_tables.py.
"""

from __future__ import annotations

import math

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Index, Integer, String, Table, Text

from projections import history_tables

metadata = history_tables.metadata  # one MetaData: the history is part of this view

items = Table(
    "view_items", metadata,
    Column("id", String(36), primary_key=True),
    Column("collection", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_position", BigInteger, nullable=False),
    Column("party", String(8)),
    Column("assignee", String(64)),
    Column("mandate_id", String(36)),
    Column("assigned_to", String(32)),
    Column("reference", String(100)),  # a mandate's, shown on the dashboard without decoding `fields`
    Column("title", Text),  # for sorting lists by title
    Column("due", Date),  # the soonest open deadline's day (else the soonest of all): lists sort by it
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("state_since", DateTime(timezone=True), nullable=False),
    # When its events happened, as far as the view has it: the latest `occurred_at` (see `effective_time`).
    Column("occurred_on", DateTime(timezone=True), nullable=False),
    Column("fields", Text, nullable=False),  # the item's fields, in the event store's own transcoding
    Index("ix_view_items_newest", "collection", "created_position"),
    Index("ix_view_items_state", "collection", "state", "created_position"),
    Index("ix_view_items_assignee", "collection", "assignee", "created_position"),
    # "My open tasks": both filters answered by the index, so counting them reads no table rows.
    Index("ix_view_items_assignee_state", "collection", "assignee", "state", "created_position"),
    Index("ix_view_items_party", "collection", "party", "created_position"),
    Index("ix_view_items_mandate", "mandate_id", "state"),
    # Lists sorted by a column (api/list_pages.py): read in the index's order, not sorted whole.
    Index("ix_view_items_due", "collection", "due"),
    Index("ix_view_items_updated", "collection", "updated_at"),
)

# The values an item is listed by, for filters on fields without a column of their own and for fields
# with several values (a meeting's participants are each a `party`): one row per (item, name, value).
item_facets = Table(
    "view_item_facets", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", String(300), primary_key=True),
    Column("collection", String(32), nullable=False),
    Column("created_position", BigInteger, nullable=False),
    Index("ix_view_item_facets_lookup", "collection", "name", "value", "created_position"),
)
FACET_LENGTH = 300  # longer values are cut: a filter on such a value finds nothing, rather than failing

# Kept as counts, like view_item_counts, so a mandate's progress costs one short read
# however many tasks it has.
mandate_tasks = Table(
    "view_mandate_tasks", metadata,
    Column("mandate_id", String(36), primary_key=True),
    Column("state", String(32), primary_key=True),
    Column("n", Integer, nullable=False),
)

item_counts = Table(
    "view_item_counts", metadata,
    Column("collection", String(32), primary_key=True),
    Column("state", String(32), primary_key=True),
    Column("n", Integer, nullable=False),
)

deadlines = Table(
    "view_deadlines", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("collection", String(32), nullable=False),
    Column("due", Date, nullable=False),
    Column("open", Boolean, nullable=False),
    Column("title", Text),
    Column("assignee", String(64)),
    Column("party", String(8)),
    # The day the ladder's next reminder falls on (None once closed or at the top): a scheduler
    # tick asks for the rows with this on or before today, one index range however many are open.
    Column("next_rung_on", Date),
    Index("ix_view_deadlines_open_due", "open", "due"),
    Index("ix_view_deadlines_next_rung", "next_rung_on"),
)

# How long items stayed in a state, as a histogram: bucket b holds durations in
# [2^(b/4), 2^((b+1)/4)) seconds, so a percentile read from it is within 9% of the exact one,
# and the dashboard reads a few hundred rows however many items there are.
state_durations = Table(
    "view_state_durations", metadata,
    Column("collection", String(32), primary_key=True),
    Column("state", String(32), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
)
BUCKETS_PER_DOUBLING = 4


def duration_bucket(seconds: float) -> int:
    return int(math.floor(BUCKETS_PER_DOUBLING * math.log2(max(seconds, 1.0))))


def bucket_seconds(bucket: int) -> float:
    """The middle (geometric) of a bucket's span."""
    return 2 ** ((bucket + 0.5) / BUCKETS_PER_DOUBLING)


# Filters with a column of their own in view_items (fast, as the lists were before facets), used for a
# workflow whose field of that name holds one value; any other filter reads view_item_facets.
FILTER_COLUMNS = ("state", "party", "assignee", "mandate_id", "assigned_to")
