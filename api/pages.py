"""The web pages for people: server-rendered HTML over the same application service as the JSON API.

Every state, action and field a page shows is read from the workflow tables, and every read
goes through the service with the signed-in actor, so a page can show no more than the API
would. Forms work without JavaScript; a POST is refused unless it comes from our own pages.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Callable, Mapping
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.deps import Service
from api.problems import status_and_title
from api.reading import ReadModelsDep
from domain.actor import Actor
from domain.application import WORKFLOWS, SecretariatApplication
from domain.errors import DomainError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from domain.idempotency import IdempotentOutcome
from domain.item import WorkflowItem
from domain.workflow import RELATION_ROLE, Action, Field, Workflow
from projections.queries import ReadModels

HERE = Path(__file__).parent
STATIC_FILES = {p.name: p for p in (HERE / "static").iterdir() if p.is_file()}
COOKIE = "secretariat_session"
LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\]*")  # "/ui/tasks?state=open", never "//host" nor "/\host"
SOON_DAYS = 14
WAIT_FOR_LISTS_SECONDS = 2.0
PAGE_SIZE = 50
# Field values that name other items, shown as links to them.
LINKED_FIELDS = {"mandate_id": "mandates", "tasks": "tasks"}
LABELS = {"amount_eur": "Amount (EUR)", "mandate_id": "Mandate", "tasks": "Linked tasks"}
# Pages hold personal work queues: never cached, never framed, forms post only here.
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'"}

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(env=Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(), undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True))


# -- who is asking, and from where ---------------------------------------------------------

def _actor_in_cookie(request: Request, service: SecretariatApplication) -> Actor | None:
    token = request.cookies.get(COOKIE)
    username = request.app.state.tokens.username_in(token) if token else None
    return service.actor_named(username) if username else None


def page_actor(request: Request, service: Service) -> Actor:
    """The signed-in user (as api/deps.py resolves a bearer token); anyone else is sent to sign in."""
    actor = _actor_in_cookie(request, service)
    if actor is None:
        # After signing in, a page opens again; a form sent without a session is not sent twice.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = target if request.method == "GET" else "/"
        raise HTTPException(303, "sign in first", headers={"Location": f"/login?next={quote(target)}"})
    return actor


def same_origin(request: Request) -> None:
    """Refuse a form sent from another site's page: its Origin (else Referer) must name this host."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is not None and urlsplit(source).netloc != request.headers.get("host"):
        raise HTTPException(403, "this form was sent from another site; open the page here and send it again")


async def form_fields(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=100)
    return {key: value for key, value in form.items() if isinstance(value, str)}


PageActor = Annotated[Actor, Depends(page_actor)]
FormFields = Annotated[dict[str, str], Depends(form_fields)]
CHECKED_POST = [Depends(same_origin)]


# -- signing in and out --------------------------------------------------------------------------

@router.get("/login")
def login_form(request: Request, service: Service, next: str = "/"):
    if _actor_in_cookie(request, service) is not None:
        return RedirectResponse(_local(next), 303)
    return _render(request, "login.html", next=_local(next), username="", error=None)


@router.post("/login", dependencies=CHECKED_POST)
def sign_in(request: Request, service: Service, form: FormFields):
    username, password = form.get("username", "").strip(), form.get("password", "")
    actor = service.authenticate(username, password) if len(username) <= 64 and len(password) <= 256 else None
    if actor is None:
        return _render(request, "login.html", status=401, next=_local(form.get("next", "/")), username=username,
                       error="Wrong username or password.")
    tokens = request.app.state.tokens
    response = RedirectResponse(_local(form.get("next", "/")), 303)
    response.set_cookie(COOKIE, tokens.issue(actor.username), max_age=int(tokens.ttl.total_seconds()), path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/logout", dependencies=CHECKED_POST)
def sign_out(request: Request):
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return response


@router.get("/static/{name}")
def static_file(name: str):
    if name not in STATIC_FILES:
        raise HTTPException(404, f"no static file {name!r}")
    return FileResponse(STATIC_FILES[name], headers={"Cache-Control": "max-age=3600"})


# -- the pages -------------------------------------------------------------------------------------

def shows_errors(route: Callable[..., Response]) -> Callable[..., Response]:
    """A domain error the route does not answer itself becomes an error page (404, 403, ...), not JSON."""
    @functools.wraps(route)
    def page(*args: Any, **kwargs: Any) -> Response:
        try:
            return route(*args, **kwargs)
        except DomainError as error:
            return _error_page(kwargs["request"], kwargs["actor"], error, WORKFLOWS.get(kwargs["collection"]))
    return page


@router.get("/")
def overview(request: Request, service: Service, read_models: ReadModelsDep, actor: PageActor):
    """The dashboard for people: counts by state, my open items, deadlines to watch, mandates' progress."""
    today = _today(service)
    board = read_models.dashboard(actor, today, horizon_days=SOON_DAYS)
    collections, mine, assignable = [], [], False
    for workflow in WORKFLOWS.values():
        if not workflow.may_read_some(actor):
            continue
        counts = board["counts"].get(workflow.collection) or _own_counts(read_models, actor, workflow)
        collections.append({"workflow": workflow, "counts": counts, "total": sum(counts.values())})
        if "assignee" in workflow.field_by_name:  # the field the `assignee` grant reads
            assignable = True
            items, _ = read_models.list_items(workflow.collection, actor, {"assignee": actor.username}, limit=500)
            mine += [_row(i) for i in items if not i.is_closed]
    mine.sort(key=lambda r: (r["fields"].get("due") or date.max, r["label"]))
    deadlines = [{**d, "url": f"/ui/{d['collection']}/{d['item_id']}", "days": (d["due"] - today).days,
                  "workflow": WORKFLOWS[d["collection"]]} for d in board["overdue"] + board["upcoming"]]
    return _render(request, "overview.html", actor=actor, section="overview", collections=collections, mine=mine,
                   assignable=assignable, deadlines=deadlines, today=today, soon_days=SOON_DAYS,
                   mandates=[{**m, "state_kind": _state_kind(WORKFLOWS["mandates"], m["state"])}
                             for m in board["mandates"]])


@router.get("/ui/{collection}")
@shows_errors
def list_page(request: Request, collection: str, service: Service, read_models: ReadModelsDep, actor: PageActor,
              state: str = "", page: str = "1"):
    """The collection's items, newest first, filtered by state."""
    workflow = _workflow(collection)
    number = int(page) if page.isdigit() and int(page) >= 1 else 1
    if state and state not in workflow.states:
        raise ValidationFailed("state", f"there is no state {state!r}; the states are: {', '.join(workflow.states)}")
    items, total = read_models.list_items(collection, actor, {"state": state} if state else {}, limit=PAGE_SIZE,
                                          offset=(number - 1) * PAGE_SIZE)
    return _render(request, "list.html", actor=actor, section=collection, workflow=workflow, state=state,
                   rows=[_row(i) for i in items], columns=_columns(workflow), total=total, page=number,
                   pages=max(1, -(-total // PAGE_SIZE)), may_create=_may_create(actor, workflow), tz=service.tz)


@router.get("/ui/{collection}/new")
@shows_errors
def new_page(request: Request, collection: str, service: Service, actor: PageActor):
    """The creating action's form; query parameters naming its fields fill them in."""
    workflow = _workflow(collection)
    return _new_page(request, service, actor, workflow, dict(request.query_params))


@router.post("/ui/{collection}/new", dependencies=CHECKED_POST)
@shows_errors
def create(request: Request, collection: str, service: Service, actor: PageActor, form: FormFields):
    workflow = _workflow(collection)
    try:
        values = _values(workflow, workflow.creating_action, form)
        outcome = service.create(collection, actor, values)
    except DomainError as error:
        return _new_page(request, service, actor, workflow, form, error=error)
    _shown_in_lists(request, outcome)
    return RedirectResponse(f"/ui/{collection}/{outcome.item.id}?done={workflow.creating_action.name}", 303)


@router.get("/ui/{collection}/{item_id}")
@shows_errors
def item_page(request: Request, collection: str, item_id: str, service: Service, actor: PageActor,
              version: str = "", done: str = ""):
    """The item, what the user may do with it now, and its full history."""
    workflow = _workflow(collection)
    at = int(version) if version.isdigit() and 0 < int(version) < 2**31 else None
    return _item_page(request, service, actor, workflow, item_id, version=at,
                      done=workflow.by_name.get(done))


@router.post("/ui/{collection}/{item_id}/{action_name}", dependencies=CHECKED_POST)
@shows_errors
def act(request: Request, collection: str, item_id: str, action_name: str, service: Service, actor: PageActor,
        form: FormFields):
    """Take an action from its form; a refusal shows the item again, unchanged, with the reason."""
    workflow = _workflow(collection)
    try:
        action = workflow.action(action_name)
        if action.creates:
            raise InvalidTransition(f"{action.name} creates a {workflow.title.lower()}; it is not taken on one")
        values = _values(workflow, action, form)
        expected = form.get("expected_version", "")
        outcome = service.act(collection, item_id, action.name, actor, values,
                              reason=form.get("reason", "").strip() or None,
                              expected_version=int(expected) if expected.isdigit() and len(expected) < 10 else None)
    except DomainError as error:
        return _item_page(request, service, actor, workflow, item_id, error=error, failed=(action_name, form))
    _shown_in_lists(request, outcome)
    return RedirectResponse(f"/ui/{collection}/{item_id}?done={action.name}", 303)


# -- page builders ------------------------------------------------------------------------------------

def _item_page(request: Request, service: SecretariatApplication, actor: Actor, workflow: Workflow, item_id: str,
               *, version: int | None = None, done: Action | None = None, error: DomainError | None = None,
               failed: tuple[str, Mapping[str, str]] | None = None) -> Response:
    collection = workflow.collection
    try:
        item = service.get_item(collection, item_id, actor, version=version)
        history = service.history(collection, item_id, actor)
    except DomainError as load_error:
        return _error_page(request, actor, load_error, workflow)
    current = version is None
    forms = []
    for name in item.allowed_actions(actor) if current else []:
        this_failed = failed is not None and failed[0] == name
        forms.append(_action_form(_views(request), actor, workflow, workflow.by_name[name],
                                  failed[1] if this_failed else {}, error if this_failed else None,
                                  url=f"/ui/{collection}/{item.id}/{name}"))
    return _render(request, "item.html", status=_status(error) if error else 200, actor=actor, section=collection,
                   workflow=workflow, item=item, row=_row(item), fields=_field_rows(service, actor, item),
                   forms=forms, history=history, current=current, latest=len(history), done=done, error=error,
                   error_title=_title(error) if error else "", failed_action=failed[0] if failed else "",
                   creates_here=_creatable_from(actor, item), tz=service.tz, today=_today(service))


def _new_page(request: Request, service: SecretariatApplication, actor: Actor, workflow: Workflow,
              given: Mapping[str, str], *, error: DomainError | None = None) -> Response:
    if not _may_create(actor, workflow):
        action = workflow.creating_action
        return _error_page(request, actor, Forbidden(f"{action.name} needs one of: {', '.join(action.who)}"),
                           workflow)
    if not given and actor.party and "party" in workflow.creating_action.fields:
        given = {"party": actor.party}  # the own_party relation reads the item's `party`
    form = _action_form(_views(request), actor, workflow, workflow.creating_action, given, error,
                        url=f"/ui/{workflow.collection}/new")
    return _render(request, "new.html", status=_status(error) if error else 200, actor=actor,
                   section=workflow.collection, workflow=workflow, form=form, error=error,
                   error_title=_title(error) if error else "")


def _error_page(request: Request, actor: Actor, error: DomainError, workflow: Workflow | None = None) -> Response:
    return _render(request, "error.html", status=_status(error), actor=actor,
                   section=workflow.collection if workflow else "", error=error, error_title=_title(error))


def _render(request: Request, template: str, *, status: int = 200, actor: Actor | None = None, section: str = "",
            **context: Any) -> Response:
    nav = [w for w in WORKFLOWS.values() if w.may_read_some(actor)] if actor else []
    response = templates.TemplateResponse(request, template, {"actor": actor, "nav": nav, "section": section,
                                                              **context}, status_code=status)
    response.headers.update(HEADERS)
    return response


# -- forms: from the workflow table to inputs, and from form strings to field values ---------------------

@dataclass(frozen=True)
class Input:
    id: str
    name: str
    label: str
    kind: str  # text | textarea | select | bool | date | decimal | integer | list
    required: bool
    value: str
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    max_length: int = 2000
    error: str = ""


@dataclass(frozen=True)
class ActionForm:
    action: Action
    label: str
    url: str
    inputs: list[Input]
    reason: str  # "required", "optional" or "" (the creating action takes none here)
    reason_value: str
    reason_error: str


def _action_form(read_models: ReadModels, actor: Actor, workflow: Workflow, action: Action,
                 given: Mapping[str, str], error: DomainError | None, *, url: str) -> ActionForm:
    wrong = error.field if isinstance(error, ValidationFailed) else None
    inputs = []
    for name in action.fields:
        spec = workflow.field_by_name[name]
        kind, choices = _kind(spec), tuple((c, c) for c in spec.choices)
        if name in LINKED_FIELDS and spec.type is str:
            choices = _active_items(read_models, actor, LINKED_FIELDS[name])
            kind = "select" if choices else kind
        help_text = " ".join(t for t in (spec.description and spec.description.rstrip(".") + ".",
                                         "Separate them with commas." if spec.type is list else "") if t)
        inputs.append(Input(
            id=f"{action.name}-{name}", name=name, label=_label_for(name), kind=kind,
            required=name in action.requires or (action.creates and spec.required), value=given.get(name, ""),
            help=help_text, choices=choices, max_length=spec.max_length, error=error.detail if wrong == name else ""))
    reason = "required" if action.reason_required else ("" if action.creates else "optional")
    return ActionForm(action=action, label=_label_for(action.name), url=url, inputs=inputs, reason=reason,
                      reason_value=given.get("reason", ""), reason_error=error.detail if wrong == "reason" else "")


def _active_items(read_models: ReadModels, actor: Actor, collection: str) -> tuple[tuple[str, str], ...]:
    """The items still active in a collection, to choose one from; none if the user may not list them."""
    try:
        items, _ = read_models.list_items(collection, actor, {}, limit=500)
    except DomainError:
        return ()
    return tuple((str(i.id), _item_label(i)) for i in items if not i.is_closed)


def _own_counts(read_models: ReadModels, actor: Actor, workflow: Workflow) -> dict[str, int]:
    """Counts by state of what a scoped reader (a Party liaison) may list; the dashboard counts all."""
    return {state: read_models.list_items(workflow.collection, actor, {"state": state}, limit=1)[1]
            for state in workflow.states}


def _views(request: Request) -> ReadModels:
    return request.app.state.read_models


def _shown_in_lists(request: Request, outcome: IdempotentOutcome) -> None:
    """Wait (briefly) until lists and the overview show the change, so the next page a person opens does."""
    if outcome.position is not None:
        request.app.state.runner.wait_for(outcome.position, timeout=WAIT_FOR_LISTS_SECONDS)


def _kind(spec: Field) -> str:
    if spec.choices:
        return "select"
    if spec.type is str:
        return "textarea" if spec.max_length > 300 else "text"
    return {bool: "bool", date: "date", Decimal: "decimal", int: "integer", list: "list"}[spec.type]


def _values(workflow: Workflow, action: Action, form: Mapping[str, str]) -> dict[str, Any]:
    """The action's fields from the form's strings; an empty input is a field not given."""
    values = {}
    for name in action.fields:
        raw = form.get(name, "").strip()
        if raw:
            values[name] = _parse(workflow.field_by_name[name], raw)
    return values


def _parse(spec: Field, raw: str) -> Any:
    label = _label_for(spec.name)
    if spec.type is date:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValidationFailed(spec.name, f"{label} must be a date written YYYY-MM-DD") from None
    if spec.type is bool:
        if raw not in ("yes", "no"):
            raise ValidationFailed(spec.name, f"{label} must be yes or no")
        return raw == "yes"
    if spec.type is Decimal:
        try:
            number = Decimal(raw)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValidationFailed(spec.name, f"{label} must be a number, e.g. 12000.50")
        return number
    if spec.type is int:
        if not raw.lstrip("-").isdigit() or len(raw) > 12:
            raise ValidationFailed(spec.name, f"{label} must be a whole number")
        return int(raw)
    if spec.type is list:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


# -- small helpers -------------------------------------------------------------------------------------

def _workflow(collection: str) -> Workflow:
    if collection not in WORKFLOWS:
        raise NotFound(f"there is no collection {collection!r}; there are: {', '.join(WORKFLOWS)}")
    return WORKFLOWS[collection]


def _may_create(actor: Actor, workflow: Workflow) -> bool:
    """Whether the actor's roles could take the creating action (a relation counts through its role)."""
    return any(actor.has_role(RELATION_ROLE.get(g, g)) for g in workflow.creating_action.who)


def _creatable_from(actor: Actor, item: WorkflowItem) -> list[dict[str, str]]:
    """Links to create items that name this one (e.g. a task for this mandate), while it is active."""
    if item.is_closed:
        return []
    links = []
    for field_name, target in LINKED_FIELDS.items():
        for workflow in WORKFLOWS.values():
            if (target == item.workflow.collection and field_name in workflow.creating_action.fields
                    and _may_create(actor, workflow)):
                links.append({"url": f"/ui/{workflow.collection}/new?{field_name}={item.id}",
                              "label": f"New {workflow.title.lower()} for this {item.workflow.title.lower()}"})
    return links


def _row(item: WorkflowItem) -> dict[str, Any]:
    return {"id": str(item.id), "url": f"/ui/{item.workflow.collection}/{item.id}", "label": _item_label(item),
            "state": item.state, "state_kind": _state_kind(item.workflow, item.state), "fields": item.fields,
            "workflow": item.workflow, "updated": item.modified_on}


def _item_label(item: WorkflowItem) -> str:
    text = item.fields.get("title") or item.fields.get("description") or f"{item.workflow.title} {item.id}"
    return text if len(text) <= 90 else text[:89].rstrip() + "…"


def _state_kind(workflow: Workflow, state: str) -> str:
    if state in workflow.terminal:
        return "final"
    return "start" if state == workflow.creating_action.target else "active"


def _columns(workflow: Workflow) -> list[dict[str, str]]:
    """Short fields the item is created with: what tells items apart in a table."""
    names = [n for n in workflow.creating_action.fields if n not in LINKED_FIELDS]
    short = [workflow.field_by_name[n] for n in names]
    return [{"name": f.name, "label": _label_for(f.name)} for f in short
            if f.type is not list and (f.type is not str or f.choices or f.max_length <= 100)]


def _field_rows(service: SecretariatApplication, actor: Actor, item: WorkflowItem) -> list[dict[str, Any]]:
    """Every field of the workflow, then what the item keeps besides (derived dates, linked items)."""
    workflow = item.workflow
    names = [f.name for f in workflow.fields] + [n for n in item.fields if n not in workflow.field_by_name]
    rows = []
    for name in names:
        spec = workflow.field_by_name.get(name)
        value = item.fields.get(name)
        if value in (None, "", [], {}) and name not in workflow.creating_action.fields:
            continue  # a field later actions fill in (a result, a report) shows once it is given
        links = _links(service, actor, LINKED_FIELDS[name], value) if name in LINKED_FIELDS and value else None
        rows.append({"name": name, "label": _label_for(name), "value": value, "links": links,
                     "long": bool(spec and _kind(spec) == "textarea")})
    return sorted(rows, key=lambda row: row["long"])  # short fields side by side, then the texts


def _links(service: SecretariatApplication, actor: Actor, collection: str, value: Any) -> list[dict[str, str]]:
    """Links to the items a field names, labelled when this user may read them."""
    ids = {value: ""} if isinstance(value, str) else dict(value)
    links = []
    for item_id, note in ids.items():
        try:
            label = _item_label(service.get_item(collection, item_id, actor))
        except DomainError:
            label = item_id
        links.append({"url": f"/ui/{collection}/{item_id}", "label": label, "note": note})
    return links


def _label_for(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def _local(target: str) -> str:
    """Where to go after signing in: only a path on this site, never another site."""
    return target if LOCAL_PATH.fullmatch(target) else "/"


def _today(service: SecretariatApplication) -> date:
    return service.clock().astimezone(service.tz).date()


def _status(error: DomainError) -> int:
    return status_and_title(error)[0]


def _title(error: DomainError) -> str:
    return status_and_title(error)[1]


def _show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(v)}" for k, v in value.items())
    return str(value)


def _when(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


templates.env.filters.update(show=_show, when=_when, label=_label_for)
