"""The "Waiting on me" page, and "Assign to me" from a queue (a form: pages work without JavaScript)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from api.deps import Service
from api.page_session import CHECKED_POST, FormFields, PageActor, local_target
from api.pages import _error_page, _render, page_workflow
from api.queue import queue_for
from domain.errors import Conflict, DomainError, Forbidden
from domain.waiting import holder_roles, may_hold, unassigned_for

WAIT_FOR_LISTS_SECONDS = 2.0

router = APIRouter(include_in_schema=False)


@router.get("/ui/queue")
def queue_page(request: Request, actor: PageActor):
    """What waits on the signed-in user, across every collection, with the next step of each."""
    return _render(request, "queue.html", actor=actor, section="queue", complete=queue_for(request, actor).complete)


@router.post("/ui/queue/{collection}/{item_id}/take", dependencies=CHECKED_POST)
def take(request: Request, collection: str, item_id: str, service: Service, actor: PageActor, form: FormFields):
    """Make an unclaimed item the signed-in user's own (a task's assign, to themselves), then go back."""
    try:
        workflow = page_workflow(collection)
        item = service.get_item(collection, item_id, actor)
        action = unassigned_for(workflow, actor, item.view())
        if not may_hold(workflow, actor):  # an auditor, say: never changes items
            raise Forbidden(f"taking a {workflow.title.lower()} needs one of: {', '.join(sorted(holder_roles(workflow)))}")
        if action is None:
            raise Conflict(f"this {workflow.title.lower()} is no longer waiting for someone to take it "
                           "(somebody may have taken it just now); nothing was changed")
        expected = form.get("expected_version", "")
        outcome = service.act(collection, item_id, action, actor, {workflow.by_name[action].requires[0]: actor.username},
                              expected_version=int(expected) if expected.isdigit() and len(expected) < 10 else None)
    except DomainError as error:
        return _error_page(request, actor, error, None)
    if outcome.position is not None:
        request.app.state.runner.wait_for(outcome.position, timeout=WAIT_FOR_LISTS_SECONDS)
    return RedirectResponse(local_target(form.get("next", "/ui/queue")), 303)
