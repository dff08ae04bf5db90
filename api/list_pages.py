"""The web lists and search: every filter of the API (several values each), words, sortable columns, pages,
and the same list as a CSV or .xlsx download; the filters live in the URL, so a list can be shared.

A list page validates its query with the API's own model (api/items.py `list_filters`), so the web and
the API accept and refuse the same values: a malformed id answers 422 on both.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError

from api.chart_figures import list_progress
from api.deps import Service
from api.exports import EXPORT_ROWS, dashboard_table, export_items, export_response
from api.items import LIST_OPTIONS, list_filters
from api.page_display import item_label, item_row, label_for, may_create, state_kind, table_columns
from api.page_session import PageActor
from api.pages import page_workflow, render_page, shows_errors
from api.params import MAX_PAGE, PAGE_SIZE, SearchQuery, page_number
from api.reading import ReadModelsDep
from api.search import searchable
from domain.actor import Actor
from domain.errors import Forbidden, ValidationFailed
from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from domain.workflow import Workflow
from projections.listing import sorts_of
from projections.queries import ReadModels
from projections.search import snippet_parts

router = APIRouter(include_in_schema=False)
LINK_OPTIONS = 200  # items offered in a link filter's list (the newest); the URL may name any other
SEARCH_PAGE = 20
_SEARCH_QUERY = TypeAdapter(SearchQuery)


@router.get("/ui/search")
def search_page(request: Request, actor: PageActor, read_models: ReadModelsDep, q: str = "", page: str = "1"):
    """Every item the user may read with the words asked for, best match first."""
    try:
        words = _SEARCH_QUERY.validate_python(q)
        number = page_number(page)
        collections = searchable(actor)
    except (ValidationError, ValidationFailed) as error:
        return _refused(request, actor, error)
    except Forbidden as error:  # e.g. an admin, who reads no items
        return render_page(request, "error.html", status=403, actor=actor, error=error, error_title="Nothing to search")
    found, total = read_models.search(actor, words, collections=collections, limit=SEARCH_PAGE,
                                      offset=(number - 1) * SEARCH_PAGE) if words else ([], 0)
    results = [{**row, "url": f"/ui/{row['collection']}/{row['id']}", "parts": snippet_parts(row["snippet"]),
                "workflow": WORKFLOW_ITEMS.workflows[row["collection"]],
                "state_kind": state_kind(WORKFLOW_ITEMS.workflows[row["collection"]], row["state"])} for row in found]
    pages = max(1, -(-total // SEARCH_PAGE))
    return render_page(request, "search.html", actor=actor, section="search", q=words, results=results, total=total,
                       page=number, pages=pages,
                       newer=f"/ui/search?{urlencode({'q': words, 'page': number - 1})}" if number > 1 else "",
                       older=f"/ui/search?{urlencode({'q': words, 'page': number + 1})}" if number < pages else "")


@router.get("/ui/export/dashboard")
def dashboard_export(request: Request, actor: PageActor, service: Service, read_models: ReadModelsDep,
                     format: str = "csv"):
    """The overview's figures as a file: counts by state, deadlines, mandates' progress (as GET /dashboard)."""
    if format not in ("csv", "xlsx"):
        return _refused(request, actor, ValidationFailed("format", "format: csv or xlsx"))
    board = read_models.dashboard(actor, service.clock().astimezone(service.tz).date())
    return export_response("dashboard", format, *dashboard_table(board))


@router.get("/ui/{collection}")
@shows_errors
def list_page(request: Request, collection: str, service: Service, read_models: ReadModelsDep, actor: PageActor):
    """The collection's items: filtered, searched, sorted and paged as the URL says; or a file of them."""
    workflow = page_workflow(collection)
    cls = WORKFLOW_ITEMS.by_collection(collection)
    query = request.query_params
    try:
        given = _given(workflow, query)
        asked = list_filters(cls).model_validate(given)
        number = page_number(query.get("page", "1"))
    except (ValidationError, ValidationFailed) as error:
        return _refused(request, actor, error, workflow)
    wanted = {k: v for k, v in asked.model_dump(exclude=LIST_OPTIONS).items() if v}
    exporting = asked.format in ("csv", "xlsx")
    items, total = read_models.list_items(collection, actor, wanted, q=asked.q, sort=asked.sort,
                                          limit=EXPORT_ROWS if exporting else PAGE_SIZE,
                                          offset=0 if exporting else (number - 1) * PAGE_SIZE)
    if exporting:
        return export_items(read_models, actor, workflow, items, total, asked.format, service.tz)
    shared = {k: v for k, v in given.items() if k != "format"}
    pages = max(1, min(MAX_PAGE, -(-total // PAGE_SIZE)))
    return render_page(
        request, "list.html", actor=actor, section=collection, workflow=workflow, rows=[item_row(i) for i in items],
        columns=_columns(workflow, shared), total=total, page=number, pages=pages, q=asked.q or "",
        filters=_filter_controls(workflow, cls, actor, read_models, wanted), filtered=bool(wanted or asked.q),
        may_create=may_create(actor, workflow), tz=service.tz, sort=asked.sort or "",
        progress=list_progress(read_models, workflow, items),
        state_sort=_sort_link(collection, shared, "state"), updated_sort=_sort_link(collection, shared, "updated_at"),
        title_sort=_sort_link(collection, shared, "title"),
        csv_url=_url(collection, {**shared, "format": "csv"}), xlsx_url=_url(collection, {**shared, "format": "xlsx"}),
        newer=_url(collection, {**shared, "page": number - 1}) if number > 1 else "",
        older=_url(collection, {**shared, "page": number + 1}) if number < pages else "", export_rows=EXPORT_ROWS)


def _given(workflow: Workflow, query: Any) -> dict[str, Any]:
    """The list's parameters from the URL: several values per filter; empty ones (a form's "any") left out;
    a free-text filter's box may hold several values separated by commas."""
    given: dict[str, Any] = {}
    for name in ("state", *workflow.filters):
        spec = workflow.field_by_name.get(name)
        values = [v.strip() for raw in query.getlist(name) for v in
                  (raw.split(",") if spec is not None and not spec.choices else [raw]) if v.strip()]
        if values:
            given[name] = values
    for name in ("q", "sort", "format"):
        if query.get(name):
            given[name] = query[name]
    return given


def _filter_controls(workflow: Workflow, cls: type[WorkflowItem], actor: Actor, read_models: ReadModels,
                     wanted: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """One control per filter: checkboxes for a few choices (and states), a list of items for a link the user
    may read, else a text box."""
    controls = [{"name": "state", "label": "State", "kind": "choices", "selected": wanted.get("state", []),
                 "options": [(s, label_for(s)) for s in workflow.states]}]
    links = {link.field: link.collection for link in cls.links}
    scope = workflow.read_scope(actor) or {}
    for name in workflow.filters:
        spec, selected = workflow.field_by_name[name], wanted.get(name, [])
        control = {"name": name, "label": label_for(name), "selected": selected}
        if spec.choices:
            # A liaison is offered their own Party only: the others would always list nothing.
            choices = [scope[name]] if name in scope else spec.choices
            control.update(kind="choices", options=[(c, label_for(c) if name != "party" else c) for c in choices])
        elif name in links and WORKFLOW_ITEMS.workflows[links[name]].read_scope(actor) is not None:
            linked, _ = read_models.list_items(links[name], actor, {}, limit=LINK_OPTIONS)
            options = [(str(i.id), item_label(i)) for i in linked]
            options += [(v, v) for v in selected if v not in {o[0] for o in options}]
            control.update(kind="items", options=options)
        else:
            control.update(kind="text", value=", ".join(selected))
        controls.append(control)
    return controls


def _columns(workflow: Workflow, shared: dict[str, Any]) -> list[dict[str, str]]:
    sortable = set(sorts_of(workflow))
    return [{**c, "sort": _sort_link(workflow.collection, shared, c["name"]) if c["name"] in sortable else None}
            for c in table_columns(workflow)]


def _sort_link(collection: str, shared: dict[str, Any], name: str) -> dict[str, str]:
    """The column's link: ascending first, descending when it is sorted ascending already; and its aria-sort."""
    current = shared.get("sort", "")
    direction = "ascending" if current == name else "descending" if current == f"-{name}" else "none"
    target = f"-{name}" if current == name else name
    return {"url": _url(collection, {**{k: v for k, v in shared.items() if k != "page"}, "sort": target}),
            "aria": direction}


def _url(collection: str, params: dict[str, Any]) -> str:
    return f"/ui/{collection}?{urlencode(params, doseq=True)}" if params else f"/ui/{collection}"


def _refused(request: Request, actor: Actor, error: Exception, workflow: Workflow | None = None) -> Any:
    """A query the list cannot take: 422, naming the parameter and what it takes."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "q"
        error = ValidationFailed(name, f"{name}: {first['msg']}")
    return render_page(request, "error.html", status=422, actor=actor, section=workflow.collection if workflow else "",
                       error=error, error_title="Not a valid list")
