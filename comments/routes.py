"""The comments' HTTP routes, for every workflow collection, and the item page form's route.

`POST /{collection}/{id}/comments` (`{"text": ...}`) and `GET /{collection}/{id}/comments`; the pages'
`POST /ui/{collection}/{id}/comments` does the same with the sign-in cookie. Whether the caller may know
the item is asked first (domain/commenting.py), so another Party's request answers exactly as an id
that names nothing, whatever the comment says.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from api.deps import CurrentActor, Service
from api.page_session import CHECKED_POST, FormFields, PageActor
from api.pages import page_workflow, render_item_page, shows_errors
from api.rendering import JSON, read_your_write
from comments.markdown import rendered
from domain.errors import Conflict, Forbidden, RuleBroken, ValidationFailed
from domain.item import MAX_COMMENT_CHARACTERS

WAIT_FOR_LISTS_SECONDS = 2.0


class CommentCreate(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_COMMENT_CHARACTERS,
                      description="Markdown (raw HTML is shown as text); `@username` notifies that user if they "
                                  "may read the item")


class CommentPublic(BaseModel):
    comment_id: str
    text: str
    html: str = Field(description="The text rendered as safe HTML")
    mentions: list[str] = Field(description="The users this comment notified")
    author: str
    at: str


class CommentAdded(CommentPublic):
    not_notified: list[str] = Field(description="Names mentioned that notified nobody: no such user, or one who "
                                                "may not read the item (the two are not told apart)")


class CommentList(BaseModel):
    comments: list[CommentPublic]


def comment_routers(collections: list[str]) -> list[APIRouter]:
    """One API router per collection (so OpenAPI names each path), and the pages' router."""
    return [*(_api_router(c) for c in collections), _page_router()]


def _api_router(collection: str) -> APIRouter:
    router = APIRouter(prefix=f"/{collection}", tags=["Comments"])

    @router.post("/{item_id}/comments", status_code=201, response_model=CommentAdded, name=f"{collection}.comment")
    def comment(item_id: str, body: CommentCreate, actor: CurrentActor, service: Service, request: Request):
        """Comment on the item (whoever reads it and may act on it; never an auditor); shown in its history."""
        added = service.comment(collection, item_id, actor, body.text)
        document = {**public(added.comment), "not_notified": added.not_notified}
        url = f"/{collection}/{added.outcome.item.id}/comments"
        return read_your_write(request, added.outcome.position,
                               JSON(document, status_code=201, headers={"Location": url}))

    @router.get("/{item_id}/comments", response_model=CommentList, name=f"{collection}.comments")
    def comments(item_id: str, actor: CurrentActor, service: Service):
        """The item's comments, oldest first (for whoever reads the item)."""
        item = service.visible_item(collection, item_id, actor)
        return JSON({"comments": [public(c) for c in item.comments]})

    return router


def _page_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.post("/ui/{collection}/{item_id}/comments", dependencies=CHECKED_POST)
    @shows_errors
    def comment_from_page(request: Request, collection: str, item_id: str, service: Service, actor: PageActor,
                          form: FormFields):
        workflow = page_workflow(collection)
        try:
            added = service.comment(collection, item_id, actor, form.get("text", ""))
        # Shown on the item's page, as an action's refusal is; an item the caller may not know raised NotFound first.
        except (ValidationFailed, Forbidden, RuleBroken, Conflict) as error:
            return render_item_page(request, service, actor, workflow, item_id, error=error, failed=("comment", {}))
        if added.outcome.position is not None:
            request.app.state.runner.wait_for(added.outcome.position, timeout=WAIT_FOR_LISTS_SECONDS)
        unheard = ",".join(added.not_notified)
        query = f"?not_notified={quote(unheard)}" if unheard else ""
        return RedirectResponse(f"/ui/{collection}/{added.outcome.item.id}{query}#comments", 303)

    return router


def public(comment: dict[str, Any]) -> dict[str, Any]:
    return {"comment_id": comment["comment_id"], "text": comment["text"], "html": str(rendered(comment["text"])),
            "mentions": comment["mentions"], "author": comment["author"], "at": comment["at"].isoformat()}

