"""One router per collection, derived from its workflow table: create, list, get, history, one route per action.

No `from __future__ import annotations` here: FastAPI must see the generated body
models themselves in the route signatures, not their names.
"""

import functools
import hashlib
import re
from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field, create_model

from api.deps import CurrentActor, ReadModelsDep, Service, TokenHolderDep, actor_holding_token
from api.expensive import expensive_read
from api.exports import EXPORT_RESPONSES, EXPORT_ROWS, export_items
from api.params import MAX_FILTER_VALUES, Instant, ItemIdFilter, Offset, SearchQuery, Version, limit_up_to
from api.rendering import JSON, item_document, item_response, read_your_write
from api.schemas import History, body_model, page_model, public_model
from api.tokens import TokenHolder
from domain.errors import NotFound, ValidationFailed
from domain.item import WorkflowItem
from domain.workflow import Action, Workflow
from projections.listing import sorts_of

Prefer = Annotated[Optional[str], Header(description="wait-for-projection: answer once lists and the "
                                                     "dashboard show this change (read your own writes)")]
IdempotencyKey = Annotated[Optional[str], Header(alias="Idempotency-Key", max_length=200,
                                                 description="Send a retry with the same key and body to get "
                                                             "the first answer, with nothing recorded twice")]
IfMatch = Annotated[Optional[str], Header(alias="If-Match", max_length=50,
                                          description='Act only if the item is still at this version, e.g. "3"')]

_IF_MATCH = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


def add_items_routes(router: APIRouter, cls: type[WorkflowItem]) -> None:
    """The collection's routes, added to `router` itself (the app's own, in api/app.py) with their whole paths.

    Not a router of their own that the app includes: FastAPI matches the routes of an included
    router through a layer of its own, twice per request (to choose, then to handle), which cost
    a command about a quarter of a millisecond of CPU. Added here, they are the same routes (paths,
    tags, names, the app's defaults) matched once, directly.
    """
    workflow = cls.workflow
    collection = workflow.collection
    base, tags = f"/{collection}", [workflow.title + "s"]
    public = public_model(workflow)
    create_body = body_model(workflow, workflow.creating_action)
    filters_model = list_filters(cls)

    @router.post(base, tags=tags, status_code=201, response_model=public,
                 summary=workflow.creating_action.description, name=f"{workflow.name}.{workflow.creating_action.name}")
    def create(body: create_body, holder: TokenHolderDep, request: Request,
               idempotency_key: IdempotencyKey = None, prefer: Prefer = None):
        actor = actor_holding_token(request, holder)  # first: see api/deps.py
        values, reason = _values(body)
        outcome = request.app.state.service.create(collection, actor, values, reason=reason,
                                                   idempotency_key=idempotency_key,
                                                   fingerprint=_fingerprint(request, body, idempotency_key))
        item = outcome.item
        response = item_response(item, actor, status=outcome.status, location=f"/{collection}/{item.id}")
        return read_your_write(request, outcome.position, response)

    @router.get(base, tags=tags, response_model=page_model(workflow, public), summary=f"List {collection}, newest first",
                responses=EXPORT_RESPONSES, dependencies=[expensive_read(when_given=("format",))])
    def list_items(filters: Annotated[filters_model, Query()], actor: CurrentActor, read_models: ReadModelsDep,
                   service: Service):
        """The items you may read, filtered (several values of a filter: any of them), searched (`q`: every
        word), sorted (`sort`, `-` for descending); with `format=csv` or `xlsx`, all of them as a file."""
        wanted = {k: v for k, v in filters.model_dump(exclude=LIST_OPTIONS).items() if v}
        exporting = filters.format in ("csv", "xlsx")
        page, total = read_models.list_items(collection, actor, wanted, q=filters.q, sort=filters.sort,
                                             limit=EXPORT_ROWS if exporting else filters.limit,
                                             offset=0 if exporting else filters.offset)
        if exporting:
            return export_items(read_models, actor, workflow, page, total, filters.format, service.tz)
        return JSON({"items": [item_document(i, actor) for i in page], "total": total})

    @router.get(base + "/{item_id}", tags=tags, response_model=public, summary=f"One {workflow.title.lower()}, now or in the past",
                dependencies=[expensive_read(when_given=("version", "as_of"))])
    def get_item(item_id: str, actor: CurrentActor, service: Service,
                 version: Annotated[Optional[Version], Query(description="The item at this version")] = None,
                 as_of: Annotated[Optional[Instant], Query(description="The item as it was at this instant "
                                                                        "(ISO 8601 with an offset)")] = None):
        if version is not None and as_of is not None:
            raise ValidationFailed("as_of", "give version or as_of, not both")
        item = service.get_item(collection, item_id, actor, version=version, as_of=as_of)
        return item_response(item, actor, current=version is None and as_of is None)

    @router.get(base + "/{item_id}/history", tags=tags, response_model=History, summary="Every event of the item, oldest first",
                dependencies=[expensive_read()])
    def history(item_id: str, actor: CurrentActor, service: Service):
        return JSON({"events": service.history(collection, item_id, actor)})

    for action in workflow.commands:
        _add_action_route(router, workflow, action, public, base, tags)

    @router.post(base + "/{item_id}/{action}", tags=tags, include_in_schema=False)
    def unknown_action(item_id: str, action: str, actor: CurrentActor):
        raise NotFound(f"{workflow.title.lower()}s have no action {action!r}; their actions are: "
                       f"{', '.join(a.name for a in workflow.commands)}")


def _add_action_route(router: APIRouter, workflow: Workflow, action: Action, public: type[BaseModel], base: str,
                      tags: list[str]) -> None:
    body_type = body_model(workflow, action)
    needs_body = bool(action.requires) or action.reason_required
    collection = workflow.collection
    who = ", ".join(action.who)
    moves = f"{' | '.join(action.sources)} → {action.target or 'same state'}"

    def act(item_id: str, holder: TokenHolder, request: Request, body: Optional[BaseModel], if_match: Optional[str],
            idempotency_key: Optional[str]):
        actor = actor_holding_token(request, holder)  # first: see api/deps.py
        values, reason = _values(body)
        outcome = request.app.state.service.act(collection, item_id, action.name, actor, values, reason=reason,
                                                expected_version=_version_in(if_match),
                                                idempotency_key=idempotency_key,
                                                fingerprint=_fingerprint(request, body, idempotency_key))
        return read_your_write(request, outcome.position, item_response(outcome.item, actor))

    # Two signatures, so that OpenAPI marks the body required exactly where the table requires something.
    # The commands take the service from the app's state rather than as a dependency, and the actor's check
    # in two halves (both in api/deps.py): each dependency costs every request, a sync one a thread hop.
    if needs_body:
        def take_action(item_id: str, holder: TokenHolderDep, request: Request, body: body_type,
                        if_match: IfMatch = None, idempotency_key: IdempotencyKey = None, prefer: Prefer = None):
            return act(item_id, holder, request, body, if_match, idempotency_key)
    else:
        def take_action(item_id: str, holder: TokenHolderDep, request: Request,
                        body: Optional[body_type] = None, if_match: IfMatch = None,
                        idempotency_key: IdempotencyKey = None, prefer: Prefer = None):
            return act(item_id, holder, request, body, if_match, idempotency_key)

    router.add_api_route(f"{base}/{{item_id}}/{action.name}", take_action, methods=["POST"], tags=tags,
                         response_model=public, name=f"{workflow.name}.{action.name}", summary=f"{action.name} ({moves})",
                         description=f"{action.description}\n\nWho: {who}.".strip())


NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot compare text holding NUL: refused (422) rather than a 500
LIST_OPTIONS = {"limit", "offset", "q", "sort", "format"}  # the list's parameters that are not filters


@functools.cache
def list_filters(cls: type[WorkflowItem]) -> type[BaseModel]:
    """The list's query parameters: each filter takes several values (any of them matches); an id is checked.
    The API's lists and the web's (api/list_pages.py) validate with this one model."""
    workflow, id_fields = cls.workflow, {link.field for link in cls.links}
    sorts = sorts_of(workflow)
    fields: dict[str, Any] = {
        "state": (Optional[list[Literal[workflow.states]]],
                  Field(None, max_length=MAX_FILTER_VALUES, description="Only items in these states")),
        "q": (Optional[SearchQuery], Field(None, description="Only items with every one of these words in their "
                                                               "title, texts, conclusions or comments")),
        "sort": (Optional[Literal[(*sorts, *(f"-{s}" for s in sorts))]],
                 Field(None, description="Order by this (`-` first: descending); default newest first, or "
                                         "best match first with `q`")),
        "format": (Optional[Literal["json", "csv", "xlsx"]],
                   Field(None, description=f"csv or xlsx: every matching item (at most {EXPORT_ROWS}) as a file")),
        "limit": (limit_up_to(500), Field(50)),
        "offset": (Offset, Field(0)),
    }
    for name in workflow.filters:
        spec = workflow.field_by_name[name]
        kind = (Literal[spec.choices] if spec.choices else ItemIdFilter if name in id_fields
                else Annotated[str, Field(max_length=spec.max_length, pattern=NO_NUL)])
        fields[name] = (Optional[list[kind]], Field(None, max_length=MAX_FILTER_VALUES))
    return create_model(f"{workflow.title.replace(' ', '')}Filters", __config__=ConfigDict(extra="forbid"), **fields)


def _values(body: Optional[BaseModel]) -> tuple[dict[str, Any], Optional[str]]:
    if body is None:
        return {}, None
    values = body.model_dump(exclude_unset=False)
    reason = values.pop("reason", None)
    return values, reason


def _fingerprint(request: Request, body: Optional[BaseModel], idempotency_key: Optional[str]) -> str:
    """What a retry with the same idempotency key must send again; only a request with a key needs one."""
    if not idempotency_key:
        return ""
    payload = body.model_dump_json() if body is not None else ""
    return hashlib.sha256(f"{request.method} {request.url.path}\n{payload}".encode()).hexdigest()


def _version_in(if_match: Optional[str]) -> Optional[int]:
    if if_match is None or if_match.strip() == "*":
        return None
    match = _IF_MATCH.match(if_match.strip())
    if not match:
        raise ValidationFailed("If-Match", 'If-Match takes the item\'s version as its ETag shows it, e.g. "3"')
    return int(match.group(1))
