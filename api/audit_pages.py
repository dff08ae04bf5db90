"""The auditor's pages: the global decision log with its filters and pages, and the chain's verification.

Auditors and the head read them (audit/access.py: AUDIT_LOG_READERS); what the log shows of a
Party-confidential workflow is that reader's scope, as for `GET /audit/events`. Nothing here
changes anything: every form is a GET. The downloads (checkpoint, export bundle) are in
api/audit_downloads.py, an item's versions compared and replayed in api/item_audit_pages.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.audit_downloads import router as downloads_router
from api.back_office import bounded_text, error_page, parse_day, render, start_of
from api.deps import RunnerDep, Service
from api.expensive import expensive_read
from api.history_display import event_label
from api.item_audit_pages import router as item_audit_router
from api.limits import check_deadline
from api.page_session import PageActor, page_actor
from api.page_display import item_label
from api.params import MAX_POSITION
from api.reading import ReadModelsDep
from audit.access import reads_whole_log, refuse_unless_auditing
from audit.log_reading import known_types, log_page
from audit.store import verify_store
from domain.actor import Actor
from domain.application import SecretariatApplication
from domain.errors import DomainError, ValidationFailed

router = APIRouter(include_in_schema=False)
router.include_router(downloads_router)
router.include_router(item_audit_router)
SECTION = "audit"
LOG_PAGE = 50  # events on one page of the log
VERIFY_WAIT_SECONDS = 5.0


@router.get("/ui/audit")
def audit_log_page(request: Request, service: Service, read_models: ReadModelsDep, actor: PageActor,
                   who: Annotated[str, Query(alias="actor")] = "", item_id: str = "", type: str = "",
                   since: str = "", until: str = "", after: str = ""):
    """The global decision log, oldest first, filtered by who, item, event type and days; a page at a time."""
    try:
        refuse_unless_auditing(actor, "the audit pages")
        filters = {"actor": bounded_text("actor", who, 80), "item_id": bounded_text("item_id", item_id, 36),
                   "type": bounded_text("type", type, 80), "since": parse_day("since", since),
                   "until": parse_day("until", until)}
        cursor = _cursor(after)
        page = log_page(
            read_models, actor, actor_filter=filters["actor"], item_id=filters["item_id"], type=filters["type"],
            since=start_of(filters["since"], service.tz) if filters["since"] else None,
            # The day given is included: the log's `until` is exclusive, so it is the next day's midnight.
            until=start_of(filters["until"] + timedelta(days=1), service.tz) if filters["until"] else None,
            limit=LOG_PAGE, after=cursor)
    except DomainError as error:
        return error_page(request, actor, error, section=SECTION)
    titles = _titles(service, actor, page["events"])
    query = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in filters.items() if v}
    events = [{**e, "label": event_label(e["type"])} for e in page["events"]]  # in words, as in the history
    return render(request, "audit_log.html", actor, section=SECTION, events=events, next=page["next"],
                  titles=titles,
                  after=cursor, filters=query, types=sorted(known_types()), tz=service.tz,
                  may_export=reads_whole_log(actor))


@router.get("/ui/audit/verify", dependencies=[expensive_read(page_actor)])
def verify_page(request: Request, service: Service, runner: RunnerDep, actor: PageActor):
    """Recompute the hash chain from the stored events, compare it with the seal, and say what was found."""
    try:
        refuse_unless_auditing(actor, "verifying the audit chain")
    except DomainError as error:
        return error_page(request, actor, error, section=SECTION)
    runner.wait_for(runner.head(), timeout=VERIFY_WAIT_SECONDS)  # what was just recorded is sealed first
    result = verify_store(service, runner.reader or runner.engine, progress=check_deadline)
    return render(request, "audit_verify.html", actor, section=SECTION, result=result,
                  checked_at=service.clock(), tz=service.tz, may_export=reads_whole_log(actor))


def _titles(service: SecretariatApplication, actor: Actor, events: list[dict]) -> dict[str, str]:
    """Each item's title, for the items of one page of the log (a bounded handful of loads)."""
    titles: dict[str, str] = {}
    for event in events:
        if event["collection"] and event["item_id"] not in titles:
            try:
                titles[event["item_id"]] = item_label(service.visible_item(event["collection"], event["item_id"],
                                                                           actor))
            except DomainError:
                titles[event["item_id"]] = event["kind"]
    return titles


def _cursor(after: str) -> int:
    if after == "":
        return 0
    if not (after.isascii() and after.isdigit() and len(after) <= 19 and int(after) <= MAX_POSITION):
        raise ValidationFailed("after", "after is a position in the log: a whole number, 0 or more")
    return int(after)
