"""Who is asking the pages, and whether to trust what they send: the sign-in cookie and form safety.

The pages sign people in with a cookie rather than the API's bearer token, so everything that
reads, writes or trusts that cookie lives here: the cookie's attributes must agree between
signing in and signing out, and every POST must come from our own pages (CSRF).
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request, Response

from api.deps import Service
from domain.actor import Actor
from domain.application import SecretariatApplication

SESSION_COOKIE = "secretariat_session"
LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\]*")  # "/ui/tasks?state=open", never "//host" nor "/\host"


def signed_in_actor(request: Request, service: SecretariatApplication) -> Actor | None:
    token = request.cookies.get(SESSION_COOKIE)
    holder = request.app.state.tokens.holder_of(token) if token else None
    return service.actor_holding(holder.username, holder.generation) if holder else None


def page_actor(request: Request, service: Service) -> Actor:
    """The signed-in user (as api/deps.py resolves a bearer token); anyone else is sent to sign in."""
    actor = signed_in_actor(request, service)
    if actor is None:
        # After signing in, a page opens again; a form sent without a session is not sent twice.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = target if request.method == "GET" else "/"
        raise HTTPException(303, "sign in first", headers={"Location": f"/login?next={quote(target)}"})
    return actor


def start_session(response: Response, request: Request, username: str, generation: int) -> None:
    tokens = request.app.state.tokens
    response.set_cookie(SESSION_COOKIE, tokens.issue(username, generation), max_age=int(tokens.ttl.total_seconds()),
                        path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")


def end_session(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")


def same_origin(request: Request) -> None:
    """Refuse a form sent from another site's page: its Origin (else Referer) must name this host."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is not None and urlsplit(source).netloc != request.headers.get("host"):
        raise HTTPException(403, "this form was sent from another site; open the page here and send it again")


async def form_fields(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=100)
    return {key: value for key, value in form.items() if isinstance(value, str)}


def local_target(target: str) -> str:
    """Where to go after signing in: only a path on this site, never another site."""
    return target if LOCAL_PATH.fullmatch(target) else "/"


PageActor = Annotated[Actor, Depends(page_actor)]
FormFields = Annotated[dict[str, str], Depends(form_fields)]
CHECKED_POST = [Depends(same_origin)]
