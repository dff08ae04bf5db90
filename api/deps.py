"""Dependencies the routes share: the application service, the read models and the calling user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.tokens import TokenHolder, TokenIssuer
from domain.actor import Actor
from domain.application import SecretariatApplication
from projections.queries import ReadModels
from projections.runner import ProjectionRunner

_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")
_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}
# The Authorization header's credentials, if any: for a route with another way in too (the calendar feed).
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_service(request: Request) -> SecretariatApplication:
    return request.app.state.service


async def get_tokens(request: Request) -> TokenIssuer:
    return request.app.state.tokens


async def get_read_models(request: Request) -> ReadModels:
    return request.app.state.read_models


async def get_runner(request: Request) -> ProjectionRunner:
    return request.app.state.runner


# The four above are `async` so that FastAPI calls them on the event loop: a plain `def`
# costs a hop to the thread pool for what is only an attribute lookup.
Service = Annotated[SecretariatApplication, Depends(get_service)]
Tokens = Annotated[TokenIssuer, Depends(get_tokens)]
ReadModelsDep = Annotated[ReadModels, Depends(get_read_models)]
RunnerDep = Annotated[ProjectionRunner, Depends(get_runner)]


def current_actor(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    """The user the bearer token names, with the roles they hold now (a revoked role is gone at once), if the
    token is of the user's current generation (not ended by a password change, sign-out or deactivation).

    The service and the tokens come from the app's state, not as dependencies of their own: each
    dependency FastAPI solves costs every request some tens of microseconds."""
    state = request.app.state
    return actor_of(state.service, state.tokens, credentials)


def actor_of(service: SecretariatApplication, tokens: TokenIssuer,
             credentials: HTTPAuthorizationCredentials | None) -> Actor:
    """`current_actor`'s check, for a dependency that has the service and the tokens already."""
    holder = _holder_or_401(tokens, credentials)
    actor = service.actor_holding(holder.username, holder.generation)
    if actor is None:
        raise _signed_out()
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


# -- the same check in two halves, for the item commands (api/items.py) ---------------------------------
#
# `current_actor` is a sync dependency, so FastAPI runs it in a worker thread of its own before the
# command's: two hops to the thread pool per command, where the bare floor has one. The commands take
# the check in two halves instead: the token's own check (no I/O) as an async dependency, on the event
# loop, then the user's in the command's own thread, first thing. What a client is answered stays the
# same, in the same order: a 401 before any 422 of the request's parameters or body, because
# `answer_401_before_422` (called by the validation error handler) checks the user first.

async def token_holder(request: Request, credentials: BearerCredentials) -> TokenHolder:
    """The holder of a good bearer token (a 401 otherwise), kept on the request for the second half."""
    holder = _holder_or_401(request.app.state.tokens, credentials)
    request.state.token_holder = holder
    return holder


def actor_holding_token(request: Request, holder: TokenHolder) -> Actor:
    """The second half: the user the token names, with their roles now, if the token is of their current
    generation (a 401 otherwise). Call it in the route's own thread before anything else."""
    actor = request.app.state.service.actor_holding(holder.username, holder.generation)
    if actor is None:
        raise _signed_out()
    return actor


async def answer_401_before_422(request: Request) -> None:
    """Raise the 401 a request would have had before its 422, if it is one of the two-halves routes."""
    holder = getattr(request.state, "token_holder", None)
    if isinstance(holder, TokenHolder):
        await run_in_threadpool(actor_holding_token, request, holder)


TokenHolderDep = Annotated[TokenHolder, Depends(token_holder)]


def _holder_or_401(tokens: TokenIssuer, credentials: HTTPAuthorizationCredentials | None) -> TokenHolder:
    if credentials is None:
        raise HTTPException(401, "this route needs Authorization: Bearer <token> (get one from POST /auth/token)",
                            headers=_UNAUTHENTICATED)
    holder = tokens.holder_of(credentials.credentials)
    if holder is None:
        raise _signed_out()
    return holder


def _signed_out() -> HTTPException:
    return HTTPException(401, "the token is invalid or expired, or its user signed out; sign in again at "
                              "POST /auth/token", headers=_UNAUTHENTICATED)
