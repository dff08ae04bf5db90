"""Dependencies the routes share: the application service, the read models and the calling user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.tokens import TokenIssuer
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
    if credentials is None:
        raise HTTPException(401, "this route needs Authorization: Bearer <token> (get one from POST /auth/token)",
                            headers=_UNAUTHENTICATED)
    holder = tokens.holder_of(credentials.credentials)
    actor = service.actor_holding(holder.username, holder.generation) if holder else None
    if actor is None:
        raise HTTPException(401, "the token is invalid or expired, or its user signed out; sign in again at "
                                 "POST /auth/token",
                            headers=_UNAUTHENTICATED)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
