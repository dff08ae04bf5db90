"""Lineage routes: a meeting's conclusions down to the tasks they became, and any mandate or task up to its
meeting (`GET /{meetings|mandates|tasks}/{id}/lineage`), as JSON and as a page (`/ui/.../lineage`).

The walk is domain/lineage.py's, through `visible_item`: what the caller may not read is left out,
and a meeting they may not read answers as a missing one. Mandates' progress comes from the read
model, the same figure `/mandates/{id}/progress` gives.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.deps import CurrentActor, ReadModelsDep, Service
from api.expensive import expensive_read
from api.page_session import PageActor
from api.pages import error_page, render_page
from api.reading import Progress
from api.rendering import JSON
from domain.application import WORKFLOWS
from domain.errors import DomainError, NotFound
from domain.lineage import MADE_FROM_MEETINGS, meeting_lineage, origin
from projections.queries import ReadModels, progress_summary


class OpenDeadline(BaseModel):
    kind: str
    due: date


class LineageNode(BaseModel):
    collection: str
    id: str
    title: str
    state: str
    open_deadlines: list[OpenDeadline]
    progress: Optional[Progress] = None  # mandates only
    tasks: Optional[list["LineageNode"]] = None  # a mandate's, going down from a meeting


class Conclusion(BaseModel):
    number: int
    text: str
    tasks_someone: bool


class ConclusionLineage(Conclusion):
    made: list[LineageNode]


class MeetingLineage(BaseModel):
    meeting: LineageNode
    conclusions: list[ConclusionLineage]


class Origin(BaseModel):
    item: LineageNode
    mandate: Optional[LineageNode] = None  # a task's
    via_mandate: bool  # the meeting is the mandate's: the task names none itself
    meeting: Optional[LineageNode] = None
    conclusion: Optional[Conclusion] = None


router = APIRouter()


@router.get("/meetings/{item_id}/lineage", response_model=MeetingLineage, tags=["Meetings"],
            dependencies=[expensive_read()])
def meeting_lineage_route(item_id: str, actor: CurrentActor, service: Service, read_models: ReadModelsDep):
    """Every conclusion, the mandates and tasks made from it and those mandates' tasks: state, progress and open
    deadlines of each (only what you may read)."""
    return JSON(down_from(service, read_models, item_id, actor))


def _origin_route(collection: str) -> None:
    @router.get(f"/{collection}/{{item_id}}/lineage", response_model=Origin, tags=[WORKFLOWS[collection].title + "s"],
                dependencies=[expensive_read()], name=f"{collection}.lineage")
    def origin_route(item_id: str, actor: CurrentActor, service: Service, read_models: ReadModelsDep):
        """The meeting and conclusion this was made from (for a task, through its mandate too), as far as you may
        read them."""
        return JSON(up_from(service, read_models, collection, item_id, actor))


for _collection in MADE_FROM_MEETINGS:
    _origin_route(_collection)


@router.get("/ui/{collection}/{item_id}/lineage", include_in_schema=False)
def lineage_page(request: Request, collection: str, item_id: str, service: Service, read_models: ReadModelsDep,
                 actor: PageActor):
    """The lineage as a tree of nested lists."""
    workflow = WORKFLOWS.get(collection)
    try:
        if collection == "meetings":
            tree = down_from(service, read_models, item_id, actor)
            return render_page(request, "lineage.html", actor=actor, section=collection, workflow=workflow, down=tree,
                           up=None, title=tree["meeting"]["title"])
        if collection in MADE_FROM_MEETINGS:
            chain = up_from(service, read_models, collection, item_id, actor)
            return render_page(request, "lineage.html", actor=actor, section=collection, workflow=workflow, down=None,
                           up=chain, title=chain["item"]["title"])
        raise NotFound(f"{collection!r} items have no lineage; meetings, mandates and tasks do")
    except DomainError as error:
        return error_page(request, actor, error, workflow)


def down_from(service: Any, read_models: ReadModels, meeting_id: str, actor: Any) -> dict[str, Any]:
    tree = meeting_lineage(service, meeting_id, actor)
    _with_progress(read_models, [node for c in tree["conclusions"] for node in c["made"]])
    return tree


def up_from(service: Any, read_models: ReadModels, collection: str, item_id: str, actor: Any) -> dict[str, Any]:
    chain = origin(service, collection, item_id, actor)
    _with_progress(read_models, [node for node in (chain["item"], chain["mandate"]) if node])
    return chain


def _with_progress(read_models: ReadModels, nodes: list[dict[str, Any]]) -> None:
    mandates = [node for node in nodes if node["collection"] == "mandates"]
    progress = read_models.mandate_progress([node["id"] for node in mandates]) if mandates else {}
    for node in mandates:
        node["progress"] = progress_summary(progress.get(node["id"], {}))
