"""The FastAPI application: routers, error mapping, and the routes that are not per collection."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse

from api.deps import CurrentActor, RunnerDep, Service, Tokens
from api.expensive import ExpensiveReads
from api.limits import RequestLimiter, RequestLimits
from api.items import add_items_routes
from api.methods import install_allowed_methods
from api.route_index import install_route_index
from api.openapi import document_every_answer
from api.problems import install_problem_handlers, problem
from api.rendering import JSON
from api.schemas import Health, Token
from api.tokens import TokenIssuer
from api.sign_in import SignInGate
from api.pages import router as pages_router
from api.chart_pages import router as chart_pages_router
from api.queue import router as queue_router
from api.queue_pages import router as queue_pages_router
from api.search import router as search_router
from api.list_pages import router as list_pages_router
from api.users import router as users_router
from api.calendar import router as calendar_router
from api.reading import router as reading_router
from api.deliveries import router as deliveries_router
from api.reminders import router as reminders_router
from api.calendar_feed import router as calendar_feed_router
from api.lineage import router as lineage_router
from api.audit import router as audit_router
from api.importing import router as importing_router
from api.docs_page import install_docs
from api.admin_pages import router as admin_pages_router
from api.audit_pages import router as audit_pages_router
from api.audit_downloads import AuditArchive
from attachments.routes import Attachments
from comments.routes import comment_routers
from report.routes import pages_router as report_pages_router, router as report_router
from domain.application import AGGREGATES, WORKFLOWS, SecretariatApplication
from projections.queries import ReadModels
from projections.runner import ProjectionRunner
from projections.store_errors import DiskState


def create_api(service: SecretariatApplication, read_models: ReadModels, runner: ProjectionRunner, *,
               token_key: str, token_ttl: timedelta = timedelta(hours=8), lifespan=None,
               calendar_token_ttl: timedelta = timedelta(days=365), sign_in: SignInGate | None = None,
               limits: RequestLimits = RequestLimits(), attachments: Attachments | None = None,
               audit_archive: AuditArchive | None = None) -> FastAPI:
    """The HTTP API over one application service and its read models (and files attached to items, if given)."""
    api = FastAPI(title="Secretariat", version="0.1.0",
                  description="Mandates of the Committee of Ministers, Expert Working Group tasks and Parties' "
                              "support requests: event-sourced workflows with a full decision history.",
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    install_docs(api)
    api.state.service = service
    api.state.read_models = read_models
    api.state.runner = runner
    api.state.tokens = TokenIssuer(token_key, token_ttl, calendar_token_ttl)
    api.state.sign_in = sign_in or SignInGate()
    api.state.audit_archive = audit_archive  # the pages' checkpoint and export downloads, when given
    api.state.disk = DiskState()  # a write refused for a full disk shows in /health until one succeeds
    service.on_recorded.append(api.state.disk.write_succeeded)
    install_problem_handlers(api)
    install_allowed_methods(api)
    document_every_answer(api)
    api.state.expensive_reads = ExpensiveReads(limits)
    api.add_middleware(RequestLimiter, limits=limits, large_bodies=attachments.body_limit if attachments else None)
    api.include_router(_general_routes())
    api.include_router(users_router)
    api.include_router(calendar_router)
    api.include_router(reading_router)
    api.include_router(deliveries_router)
    api.include_router(reminders_router)
    api.include_router(calendar_feed_router)
    api.include_router(audit_router)
    api.include_router(importing_router)
    for router in attachments.routers(list(AGGREGATES)) if attachments else ():
        api.include_router(router)  # before the pages' and items' routes, whose `/{action}` would take theirs
    for router in comment_routers(list(AGGREGATES)):
        api.include_router(router)  # likewise before them
    api.include_router(lineage_router)
    api.include_router(report_router)
    api.include_router(chart_pages_router)  # before the pages', whose /ui/{collection} would take /ui/dashboard
    api.include_router(queue_router)
    api.include_router(queue_pages_router)
    api.include_router(admin_pages_router)
    api.include_router(audit_pages_router)
    api.include_router(search_router)
    api.include_router(list_pages_router)  # after the other /ui/... pages: its /ui/{collection} would take theirs
    api.include_router(pages_router)
    api.include_router(report_pages_router)
    for cls in AGGREGATES.values():
        add_items_routes(api.router, cls)  # last: their `/{item_id}/{action}` would take the routes above
    install_route_index(api)
    return api


def _general_routes() -> APIRouter:
    router = APIRouter()

    @router.post("/auth/token", response_model=Token, tags=["Auth"], responses={
        401: {"description": "Wrong credentials"},
        429: {"description": "Too many wrong passwords for this username or address: wait Retry-After seconds"},
        503: {"description": "Too many sign-ins at once: try again after Retry-After seconds"}})
    async def sign_in(request: Request, username: Annotated[str, Form(max_length=64)],
                      password: Annotated[str, Form(max_length=256)], service: Service, tokens: Tokens):
        """Exchange a username and password (OAuth2 password form) for a bearer token (throttled)."""
        user = await request.app.state.sign_in.sign_in(request, service, username, password)
        if user is None:
            raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
        return JSON({"access_token": tokens.issue(user.username, user.generation_pair()[0]), "token_type": "bearer",
                     "expires_in": int(tokens.ttl.total_seconds())})

    @router.post("/auth/sign-out-everywhere", status_code=204, tags=["Auth"])
    def sign_out_everywhere(actor: CurrentActor, service: Service):
        """End every access token, page session and calendar feed URL of yours, this one included."""
        service.sign_out(actor.username, everywhere=True)
        return Response(status_code=204)

    @router.get("/workflows", tags=["Workflows"])
    def workflows(_actor: CurrentActor):
        """Every workflow's states, actions (from, to, roles, required fields) and fields, as data."""
        return JSON({"workflows": [w.as_document() for w in WORKFLOWS.values()]})

    @router.get("/workflows/{collection}.mmd", tags=["Workflows"], response_class=MermaidText)
    def workflow_diagram(collection: str, _actor: CurrentActor):
        """The workflow's state diagram as Mermaid text."""
        if collection not in WORKFLOWS:
            raise HTTPException(404, f"no workflow {collection!r}; there are: {', '.join(WORKFLOWS)}")
        return MermaidText(WORKFLOWS[collection].as_mermaid())

    @router.get("/health", response_model=Health, tags=["Operations"])
    def health(request: Request, service: Service, runner: RunnerDep):
        """Whether the store answers, and how many events the read models are behind (no authentication).

        Nothing here counts events or moves when someone acts (beyond a passing lag): anyone may ask,
        and a Party must not learn of another's requests from it. Counts are in /metrics."""
        if request.app.state.disk.full_since is not None:
            return problem(503, "disk-full", "Disk full", "the store's disk was full at the last write; writes are "
                           "refused until space is freed", headers={"Retry-After": "30"}, health="degraded")
        try:
            lag = runner.lag()
        except Exception as error:  # noqa: BLE001 - any store failure is "unavailable", and says which
            return problem(503, "unavailable", "Store unavailable", f"the store does not answer: "
                           f"{type(error).__name__}")
        return JSON({"status": "ok", "store": service.factory.__class__.__module__.split(".")[-1],
                     "projection_lag": max(lag.values(), default=0), "views": lag})

    return router


class MermaidText(PlainTextResponse):
    media_type = "text/vnd.mermaid"  # documented as such, and sent with `; charset=utf-8`
