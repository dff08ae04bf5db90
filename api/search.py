"""GET /search: the items the caller may read with every word asked for, best match first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import CurrentActor, ReadModelsDep
from api.params import MAX_FILTER_VALUES, Offset, SearchQuery, limit_up_to
from api.rendering import JSON
from domain.actor import Actor
from domain.errors import Forbidden
from domain.registry import WORKFLOW_ITEMS
from projections.search import plain_snippet

COLLECTIONS = tuple(WORKFLOW_ITEMS.collections)


class Found(BaseModel):
    collection: str
    id: str
    title: str
    state: str
    updated_at: datetime
    snippet: str = Field(description="A passage around the words found")


class SearchResults(BaseModel):
    items: list[Found]
    total: int


router = APIRouter(tags=["Search"])


@router.get("/search", response_model=SearchResults)
def search(q: Annotated[SearchQuery, Query(description="Words to find, all of them (in titles, descriptions, "
                                                       "texts, conclusions and comments)")],
           actor: CurrentActor, read_models: ReadModelsDep,
           collection: Annotated[Optional[list[Literal[COLLECTIONS]]],
                                 Query(max_length=MAX_FILTER_VALUES, description="Only these collections")] = None,
           limit: Annotated[limit_up_to(100), Query()] = 20, offset: Annotated[Offset, Query()] = 0):
    """Items you may read with every word of `q`, best match first (a Party liaison: their Party's only)."""
    found, total = read_models.search(actor, q, collections=searchable(actor, collection), limit=limit, offset=offset)
    return JSON({"items": [{**row, "snippet": plain_snippet(row["snippet"])} for row in found], "total": total})


def searchable(actor: Actor, wanted: list[str] | None = None) -> list[str]:
    """The collections (of `wanted`) the actor may read some of; Forbidden if none at all."""
    readable = [c for c, cls in WORKFLOW_ITEMS.collections.items() if cls.workflow.read_scope(actor) is not None]
    if not readable:
        raise Forbidden("searching needs a role that reads items (an admin manages users only)")
    return [c for c in readable if not wanted or c in wanted]
