"""The full-text search index: what each item says, in words, kept by the items projection.

One row per item in `view_item_search`, written in the same transaction as the item's row (and rebuilt
with the items view when its version changes). Its `rowid` is the item's `created_position` (unique per
item, and an integer, which SQLite's FTS5 needs as its rowid). On PostgreSQL it is a plain table with a
generated `tsvector` column and a GIN index on it; on SQLite the same table is created as an FTS5
virtual table (see `_create_fts5`), so the runner's create, copy, rename and drop work on it unchanged.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sqlalchemy import BigInteger, Column, Computed, Index, String, Table, Text, func, literal_column
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateTable

from domain.item import WorkflowItem
from projections import history_tables

LANGUAGE = "english"  # stems words ("meetings" finds "meeting"); SQLite's porter tokenizer does the same
MAX_TEXT = 200_000  # characters of an item indexed at most: bounds the index whatever the comments add
MAX_QUERY = 200  # characters of a search
MAX_WORDS = 16  # words of a search; more match nothing more useful and cost more
SNIPPET_START, SNIPPET_END = "\ue000", "\ue001"  # marks around a match in a snippet (private-use characters)
_WORD = re.compile(r"\w+", re.UNICODE)

search = Table(
    "view_item_search", history_tables.metadata,
    Column("rowid", BigInteger, primary_key=True, autoincrement=False),  # the item's created_position
    Column("collection", String(32), nullable=False),
    Column("body", Text, nullable=False),
    # Filled on PostgreSQL only: SQLite's FTS5 table keeps its own index of `body` instead.
    Column("document", TSVECTOR, Computed(f"to_tsvector('{LANGUAGE}'::regconfig, body)", persisted=True)),
)
Index("ix_view_item_search_document", search.c.document, postgresql_using="gin").ddl_if(dialect="postgresql")


@compiles(CreateTable, "sqlite")
def _create_fts5(create: CreateTable, compiler: Any, **kw: Any) -> str:
    """A table with a tsvector column is, on SQLite, an FTS5 table of its text: copies made for a rebuild
    (named otherwise) are too. Other tables are created as usual."""
    table = create.element
    if not any(isinstance(c.type, TSVECTOR) for c in table.columns):
        return compiler.visit_create_table(create, **kw)
    quote = compiler.preparer.quote
    # The tsvector column stays, empty, so that `select(table)` reads the same columns on both stores.
    columns = [f"{quote(c.name)}{'' if type(c.type) is Text else ' UNINDEXED'}" for c in table.columns
               if c.name != "rowid"]
    return (f"CREATE VIRTUAL TABLE {quote(table.name)} USING fts5({', '.join(columns)}, "
            f"tokenize = 'porter unicode61 remove_diacritics 2')")


def search_text(item: WorkflowItem) -> str:
    """What an item is found by: its title, its free-text fields (descriptions, texts, results, minutes...),
    its lists of words (partners, agenda) and the `text` of the records it keeps (a meeting's conclusions,
    the comments on it). Not ids, usernames or choices: those are filters."""
    parts = [item.label]
    fields = item.fields
    for name, is_list in _searched_fields(type(item)):
        value = fields.get(name)
        if value is None:
            continue
        if is_list:
            parts += [v for v in value if isinstance(v, str)]
        else:
            parts.append(value)
    for value in fields.values():
        records = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        parts += [r["text"] for r in records if isinstance(r, dict) and isinstance(r.get("text"), str)]
    return "\n".join(dict.fromkeys(p for p in parts if p))[:MAX_TEXT]  # once each: a title is also a field


@functools.cache
def _searched_fields(cls: type[WorkflowItem]) -> tuple[tuple[str, bool], ...]:
    """The fields of a workflow whose words are searched, in order, each with whether it is a list of words:
    free text (at most 100 characters is a name or a code, not text) and lists, not links, users or choices.
    Worked out once per class: a rebuild asks it for every item."""
    skipped = {link.field for link in cls.links} | set(cls.user_fields)
    return tuple((spec.name, spec.type is list) for spec in cls.workflow.fields
                 if spec.name not in skipped and not spec.choices
                 and (spec.type is list or (spec.type is str and spec.max_length >= 100)))


def search_words(q: str) -> list[str]:
    """The words of a search, at most MAX_WORDS: letters and digits only, so no search syntax reaches a store."""
    return _WORD.findall(q)[:MAX_WORDS]


def matches(table: Table, dialect: str, words: list[str]) -> Any:
    """The condition that a row of the search table has every word (stemmed)."""
    if dialect == "postgresql":
        return table.c.document.op("@@")(_tsquery(words))
    return literal_column(table.name).op("MATCH")(" ".join(f'"{w}"' for w in words))


def rank(table: Table, dialect: str, words: list[str]) -> Any:
    """Best match first, as an ascending order."""
    if dialect == "postgresql":
        return -func.ts_rank(table.c.document, _tsquery(words))
    return literal_column(f"{table.name}.rank")  # FTS5's bm25: lower is better


def snippet(table: Table, dialect: str, words: list[str]) -> Any:
    """A short passage around the matched words, each match between SNIPPET_START and SNIPPET_END."""
    if dialect == "postgresql":
        return func.ts_headline(LANGUAGE, table.c.body, _tsquery(words),
                                f"StartSel={SNIPPET_START}, StopSel={SNIPPET_END}, MaxWords=24, MinWords=8, "
                                "MaxFragments=2, FragmentDelimiter=\" … \"")
    body = [c.name for c in table.columns if c.name != "rowid"].index("body")
    return func.snippet(literal_column(table.name), body, SNIPPET_START, SNIPPET_END, " … ", 24)


def _tsquery(words: list[str]) -> Any:
    return func.plainto_tsquery(literal_column(f"'{LANGUAGE}'::regconfig"), " ".join(words))


def snippet_parts(text: str | None) -> list[tuple[str, bool]]:
    """A snippet as (text, matched) pieces, for a page to mark the matches."""
    parts: list[tuple[str, bool]] = []
    for i, piece in enumerate(re.split(f"[{SNIPPET_START}{SNIPPET_END}]", text or "")):
        if piece:
            parts.append((piece, i % 2 == 1))
    return parts


def plain_snippet(text: str | None) -> str:
    return "".join(piece for piece, _ in snippet_parts(text))
