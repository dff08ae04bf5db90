"""The web pages for people: server-rendered HTML over the same application service as the JSON API.

Every state, action and field a page shows is read from the workflow tables, and every read
goes through the service with the signed-in actor, so a page can show no more than the API
would. Forms work without JavaScript; a POST is refused unless it comes from our own pages.
The sign-in cookie and form safety are in api/page_session.py, forms in api/page_forms.py,
and how items are shown in api/page_display.py; this module holds the routes and renders them.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.chart_figures import item_extras, overview_charts
from api.deps import Service
from attachments import TEMPLATES as ATTACHMENT_TEMPLATES
from comments.page import register as register_comment_helpers
from api.history_display import history_rows
from api.page_display import (
    ItemTitles, creatable_from, field_rows, in_words, item_row, label_for, local_time, may_create, shown_value,
    state_kind,
)
from api.page_forms import action_form, form_values, people_who_may_take
from api.page_session import (
    CHECKED_POST, FormFields, PageActor, end_session, local_target, signed_in_actor, start_session,
)
from api.queue import waiting_rows
from api.problems import status_and_title
from api.sign_in import SignInRefused
from api.reading import ReadModelsDep
from domain.actor import Actor
from domain.application import WORKFLOWS, SecretariatApplication
from domain.errors import DomainError, Forbidden, InvalidTransition, NotFound
from domain.registry import WORKFLOW_ITEMS
from domain.reminders import unknown_reminder
from domain.idempotency import IdempotentOutcome
from domain.lineage import LINEAGE_COLLECTIONS
from domain.waiting import next_steps
from domain.workflow import Action, Workflow
from projections.queries import PROGRESS_KEY, ReadModels

HERE = Path(__file__).parent
STATIC_FILES = {p.name: p for p in (HERE / "static").iterdir() if p.is_file()}
SOON_DAYS = 14
REMINDERS_SHOWN = 20  # the newest unacknowledged ones; the API pages through the rest
WAIT_FOR_LISTS_SECONDS = 2.0
# Pages hold personal work queues: never cached, never framed, forms post only here.
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'"}

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(env=Environment(
    loader=FileSystemLoader([HERE / "templates", ATTACHMENT_TEMPLATES]), autoescape=select_autoescape(), undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True))
templates.env.filters.update(show=shown_value, when=local_time, label=label_for, words=in_words,
                             kind_in=lambda state, collection: state_kind(WORKFLOWS[collection], state))
register_comment_helpers(templates.env)  # `markdown` and `not_notified` for _comments.html


# -- signing in and out --------------------------------------------------------------------------

@router.get("/login")
def login_form(request: Request, service: Service, next: str = "/"):
    if signed_in_actor(request, service) is not None:
        return RedirectResponse(local_target(next), 303)
    return render_page(request, "login.html", next=local_target(next), username="", error=None)


@router.post("/login", dependencies=CHECKED_POST)
async def sign_in(request: Request, service: Service, form: FormFields):
    # Through the same throttle and verification slots as POST /auth/token (api/sign_in.py).
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_page = local_target(form.get("next", "/"))
    if len(username) > 64 or len(password) > 256:
        user = None
    else:
        try:
            user = await request.app.state.sign_in.sign_in(request, service, username, password)
        except SignInRefused as refused:
            response = render_page(request, "login.html", status=refused.status_code, next=next_page, username=username,
                               error=f"Not signed in: {refused.detail}.")
            response.headers["Retry-After"] = str(refused.retry_after)
            return response
    if user is None:
        return render_page(request, "login.html", status=401, next=next_page, username=username,
                       error="Wrong username or password.")
    response = RedirectResponse(next_page, 303)
    start_session(response, request, user.username, user.generation_pair()[0])
    return response


@router.post("/logout", dependencies=CHECKED_POST)
def sign_out(request: Request, service: Service):
    # The cookie alone is not enough: a copy of it would still work. Moving the user's generation on ends
    # every session and access token of theirs (calendar URLs stay; POST /auth/sign-out-everywhere ends those).
    actor = signed_in_actor(request, service)
    if actor is not None:
        service.sign_out(actor.username, everywhere=False)
    response = RedirectResponse("/login", 303)
    end_session(response, request)
    return response


@router.get("/static/{name}")
def static_file(name: str):
    if name not in STATIC_FILES:
        raise HTTPException(404, f"no static file {name!r}")
    return FileResponse(STATIC_FILES[name], headers={"Cache-Control": "max-age=3600"})


@router.get("/favicon.ico", include_in_schema=False)
def favicon():
    # Browsers ask for it on every site; a 404 is a console error on the first page they open.
    return FileResponse(STATIC_FILES["favicon.svg"], media_type="image/svg+xml",
                        headers={"Cache-Control": "max-age=86400"})


# -- the pages -------------------------------------------------------------------------------------

def shows_errors(route: Callable[..., Response]) -> Callable[..., Response]:
    """A domain error the route does not answer itself becomes an error page (404, 403, ...), not JSON."""
    @functools.wraps(route)
    def page(*args: Any, **kwargs: Any) -> Response:
        try:
            return route(*args, **kwargs)
        except DomainError as error:
            return error_page(kwargs["request"], kwargs["actor"], error, WORKFLOWS.get(kwargs["collection"]))
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
        counts = board["counts"].get(workflow.collection) or read_models.counts_readable(workflow.collection, actor)
        collections.append({"workflow": workflow, "counts": counts, "total": sum(counts.values())})
        if "assignee" in workflow.field_by_name:  # the field the `assignee` grant reads
            assignable = True
            items, _ = read_models.list_items(workflow.collection, actor, {"assignee": actor.username}, limit=500)
            mine += [item_row(i) for i in items if not i.is_closed]
    mine.sort(key=lambda r: (r["fields"].get("due") or date.max, r["label"]))
    deadlines = [{**d, "url": f"/ui/{d['collection']}/{d['item_id']}", "days": (d["due"] - today).days,
                  "workflow": WORKFLOWS[d["collection"]]} for d in board["overdue"] + board["upcoming"]]
    reminders, unacknowledged = read_models.reminders(actor, mine=True, acknowledged=False, limit=REMINDERS_SHOWN)
    for reminder in reminders:
        reminder["url"] = f"/ui/{reminder['collection']}/{reminder['item_id']}"
    return render_page(request, "overview.html", actor=actor, section="overview", collections=collections, mine=mine,
                   reminders=reminders, unacknowledged=unacknowledged,
                   assignable=assignable, deadlines=deadlines, today=today, soon_days=SOON_DAYS, tz=service.tz,
                   charts=overview_charts(read_models, actor, service),
                   mandates=[{**m, "state_kind": state_kind(WORKFLOWS[WORKFLOW_ITEMS.progress_collection()],
                                                            m["state"])} for m in board[PROGRESS_KEY]])


@router.post("/ui/reminders/{reminder_id}/acknowledge", dependencies=CHECKED_POST)
def acknowledge_reminder(request: Request, reminder_id: str, service: Service, read_models: ReadModelsDep,
                         actor: PageActor):
    """Acknowledge a reminder from the overview, then show the overview without it."""
    try:
        reminder = read_models.reminder(reminder_id)
        if reminder is None:
            raise unknown_reminder(reminder_id)
        _item, position = service.acknowledge_reminder(reminder["collection"], reminder["item_id"], reminder_id,
                                                       actor)
    except DomainError as error:
        return error_page(request, actor, error)
    if position is not None:
        request.app.state.runner.wait_for(position, timeout=WAIT_FOR_LISTS_SECONDS)
    return RedirectResponse("/", 303)


@router.get("/ui/{collection}/new")
@shows_errors
def new_page(request: Request, collection: str, service: Service, actor: PageActor):
    """The creating action's form; query parameters naming its fields fill them in."""
    workflow = page_workflow(collection)
    return _new_page(request, service, actor, workflow, dict(request.query_params))


@router.post("/ui/{collection}/new", dependencies=CHECKED_POST)
@shows_errors
def create(request: Request, collection: str, service: Service, actor: PageActor, form: FormFields):
    workflow = page_workflow(collection)
    try:
        values = form_values(workflow, workflow.creating_action, form)
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
    workflow = page_workflow(collection)
    at = int(version) if version.isdigit() and 0 < int(version) < 2**31 else None
    return render_item_page(request, service, actor, workflow, item_id, version=at,
                      done=workflow.by_name.get(done))


@router.post("/ui/{collection}/{item_id}/{action_name}", dependencies=CHECKED_POST)
@shows_errors
def act(request: Request, collection: str, item_id: str, action_name: str, service: Service, actor: PageActor,
        form: FormFields):
    """Take an action from its form; a refusal shows the item again, unchanged, with the reason."""
    workflow = page_workflow(collection)
    try:
        action = workflow.action(action_name)
        if action.creates:
            raise InvalidTransition(f"{action.name} creates a {workflow.title.lower()}; it is not taken on one")
        values = form_values(workflow, action, form)
        expected = form.get("expected_version", "")
        outcome = service.act(collection, item_id, action.name, actor, values,
                              reason=form.get("reason", "").strip() or None,
                              expected_version=int(expected) if expected.isdigit() and len(expected) < 10 else None)
    except DomainError as error:
        return render_item_page(request, service, actor, workflow, item_id, error=error, failed=(action_name, form))
    _shown_in_lists(request, outcome)
    return RedirectResponse(f"/ui/{collection}/{item_id}?done={action.name}", 303)


# -- page builders ------------------------------------------------------------------------------------

def render_item_page(request: Request, service: SecretariatApplication, actor: Actor, workflow: Workflow, item_id: str,
                     *, version: int | None = None, done: Action | None = None, error: DomainError | None = None,
                     failed: tuple[str, Mapping[str, str]] | None = None) -> Response:
    collection = workflow.collection
    try:
        item = service.get_item(collection, item_id, actor, version=version)
        history = service.history(collection, item_id, actor)
    except DomainError as load_error:
        return error_page(request, actor, load_error, workflow)
    current = version is None
    forms = []
    # Every user is loaded to find them: once per page, and only for a workflow with a field naming a user.
    people = people_who_may_take(service, workflow) if current and type(item).user_fields else []
    for name in next_steps(workflow, actor, item.view()) if current else []:  # the next step first
        this_failed = failed is not None and failed[0] == name
        forms.append(action_form(_views(request), actor, workflow, workflow.by_name[name],
                                 failed[1] if this_failed else {}, error if this_failed else None,
                                 url=f"/ui/{collection}/{item.id}/{name}", people=people))
    titles = ItemTitles(service, actor)
    return render_page(request, "item.html", status=_status(error) if error else 200, actor=actor, section=collection,
                   workflow=workflow, item=item, row=item_row(item), fields=field_rows(service, actor, item, titles),
                   forms=forms, blocked=item.blocked_actions(actor) if current else [],
                   history=history_rows(titles, workflow, history, service.tz), current=current,
                   latest=len(history), done=done, error=error,
                   error_title=_title(error) if error else "", failed_action=failed[0] if failed else "",
                   creates_here=creatable_from(actor, item), tz=service.tz, today=_today(service),
                   extras=item_extras(_views(request), item),
                   lineage_url=f"/ui/{collection}/{item.id}/lineage" if collection in LINEAGE_COLLECTIONS else "")


def _new_page(request: Request, service: SecretariatApplication, actor: Actor, workflow: Workflow,
              given: Mapping[str, str], *, error: DomainError | None = None) -> Response:
    if not may_create(actor, workflow):
        action = workflow.creating_action
        return error_page(request, actor, Forbidden(f"{action.name} needs one of: {', '.join(action.who)}"),
                           workflow)
    if not given and actor.party and "party" in workflow.creating_action.fields:
        given = {"party": actor.party}  # the own_party relation reads the item's `party`
    form = action_form(_views(request), actor, workflow, workflow.creating_action, given, error,
                       url=f"/ui/{workflow.collection}/new", people=people_who_may_take(service, workflow))
    return render_page(request, "new.html", status=_status(error) if error else 200, actor=actor,
                   section=workflow.collection, workflow=workflow, form=form, error=error,
                   error_title=_title(error) if error else "")


def error_page(request: Request, actor: Actor, error: DomainError, workflow: Workflow | None = None) -> Response:
    return render_page(request, "error.html", status=_status(error), actor=actor,
                   section=workflow.collection if workflow else "", error=error, error_title=_title(error))


def render_page(request: Request, template: str, *, status: int = 200, actor: Actor | None = None, section: str = "",
            **context: Any) -> Response:
    nav = [w for w in WORKFLOWS.values() if w.may_read_some(actor)] if actor else []
    response = templates.TemplateResponse(request, template, {"actor": actor, "nav": nav, "section": section,
                                                              "waiting": waiting_rows(request, actor), **context},
                                          status_code=status)
    response.headers.update(HEADERS)
    return response


# -- small helpers -------------------------------------------------------------------------------------

def _views(request: Request) -> ReadModels:
    return request.app.state.read_models


def _shown_in_lists(request: Request, outcome: IdempotentOutcome) -> None:
    """Wait (briefly) until lists and the overview show the change, so the next page a person opens does."""
    if outcome.position is not None:
        request.app.state.runner.wait_for(outcome.position, timeout=WAIT_FOR_LISTS_SECONDS)


def page_workflow(collection: str) -> Workflow:
    if collection not in WORKFLOWS:
        raise NotFound(f"there is no collection {collection!r}; there are: {', '.join(WORKFLOWS)}")
    return WORKFLOWS[collection]


def _today(service: SecretariatApplication) -> date:
    return service.clock().astimezone(service.tz).date()


def _status(error: DomainError) -> int:
    return status_and_title(error)[0]


def _title(error: DomainError) -> str:
    return status_and_title(error)[1]
