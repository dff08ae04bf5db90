"""The deliveries page: reminders sent by e-mail and webhook, filtered by status, and a second try.

Who reads and who retries which is `scheduler.outbox.delivery_scope`'s call, as for the JSON API
(api/deliveries.py): the head and auditors read them, the head retries. Not the admin: a delivery
shows its item's title, and an admin reads no item.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.back_office import error_page, problem_words, render
from api.deliveries import OutboxDep
from api.deps import Service
from api.page_session import CHECKED_POST, PageActor
from api.params import PAGE_SIZE, page_number
from domain.actor import Actor
from domain.errors import DomainError, Forbidden, NotFound, ValidationFailed
from scheduler.outbox import CHANNELS, RETRYABLE, STATUSES, WAITING, Outbox, delivery_scope

router = APIRouter(include_in_schema=False)
SECTION = "admin"
# The first view: what needs someone's attention (failed and the like), then what waits to go.
NEEDS_ATTENTION = "attention"
MERGED_PAGES = 10


@router.get("/ui/admin/deliveries")
def deliveries_page(request: Request, actor: PageActor, outbox: OutboxDep, status: str = NEEDS_ATTENTION,
                    channel: str = "", page: str = "1", done: str = ""):
    """Deliveries newest first: those needing attention, waiting, or of any one status; each failed one retried."""
    return _deliveries_page(request, actor, outbox, status, channel, page,
                            done="The delivery is queued again, due now." if done == "retry" else None)


@router.post("/ui/admin/deliveries/{delivery_id}/retry", dependencies=CHECKED_POST)
def retry_delivery(request: Request, delivery_id: str, service: Service, actor: PageActor, outbox: OutboxDep):
    """Queue a failed, recipient-less or expired delivery again, with a fresh round of tries (head)."""
    try:
        scope = delivery_scope(actor, retry=True)
        if len(delivery_id) > 36:  # no delivery id is longer: answered before the store is asked
            raise NotFound(f"no delivery {delivery_id[:36]}…")
        outbox.retry(delivery_id, scope, now=service.clock(), by=actor.username)
    except DomainError as error:
        return _deliveries_page(request, actor, outbox, NEEDS_ATTENTION, "", "1", error=error)
    return RedirectResponse("/ui/admin/deliveries?done=retry", 303)


def _deliveries_page(request: Request, actor: Actor, outbox: Outbox, status: str, channel: str, page: str, *,
                     done: str | None = None, error: DomainError | None = None) -> Response:
    try:
        scope = delivery_scope(actor)
        statuses = _statuses(status)
        if channel and channel not in CHANNELS:
            raise ValidationFailed("channel", f"there is no channel {channel[:40]!r}; there are: {', '.join(CHANNELS)}")
        number = page_number(page)
        if len(statuses) == 1:
            shown, total = outbox.list_deliveries(scope, status=statuses[0], channel=channel or None,
                                                  limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
        else:
            shown, total = _merged(outbox, scope, statuses, channel, number)
    except DomainError as refused:
        return error_page(request, actor, refused, section=SECTION)
    status_code, title, detail = problem_words(error) if error else (200, "", "")
    return render(request, "admin_deliveries.html", actor, section=SECTION, status=status_code, done=done,
                  error_title=title, error_detail=detail, deliveries=shown, total=total, status_filter=status,
                  channel=channel, page=number, pages=max(1, -(-total // PAGE_SIZE)), statuses=STATUSES,
                  channels=CHANNELS, retryable=RETRYABLE if _may_retry(actor) else (), attention=NEEDS_ATTENTION)


def _merged(outbox: Outbox, scope, statuses: tuple[str, ...], channel: str, number: int) -> tuple[list, int]:
    """A page of several statuses at once, newest first: each status's newest up to that page, merged.

    Bounded: the first MERGED_PAGES pages only (to page further, choose one status)."""
    if number > MERGED_PAGES:
        raise ValidationFailed("page", f"with several statuses, pages 1 to {MERGED_PAGES} are shown; choose one "
                                       "status to see further")
    rows, total = [], 0
    for one in statuses:
        found, count = outbox.list_deliveries(scope, status=one, channel=channel or None,
                                              limit=PAGE_SIZE * number, offset=0)
        rows, total = rows + found, total + count
    rows.sort(key=lambda d: d["created_at"], reverse=True)
    return rows[(number - 1) * PAGE_SIZE:number * PAGE_SIZE], total


def _statuses(status: str) -> tuple[str, ...]:
    if status == NEEDS_ATTENTION:
        return RETRYABLE + WAITING
    if status == "":
        return STATUSES
    if status not in STATUSES:
        raise ValidationFailed("status", f"there is no status {status[:40]!r}; there are: "
                                         f"{', '.join((NEEDS_ATTENTION, *STATUSES))}")
    return (status,)


def _may_retry(actor: Actor) -> bool:
    try:
        delivery_scope(actor, retry=True)
    except Forbidden:
        return False
    return True
