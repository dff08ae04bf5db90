"""GET /meetings/{id}/report (bearer token) and its page twin under /ui (the signed-in browser's download).

Both read the meeting as the caller may (an unknown or unreadable meeting is the same 404), build
the report by replaying the log (an expensive read), and answer it in the format asked for.
"""

# No `from __future__ import annotations`: FastAPI must see the `Query` and `Literal` types themselves.

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import CurrentActor, Service
from api.expensive import expensive_read
from api.page_session import PageActor, page_actor
from api.pages import shows_errors
from domain.actor import Actor
from domain.errors import NotFound
from report.content import MEETINGS, progress_report
from report.formats import FORMATS, MEDIA_TYPES, Format, rendered

FORMAT_HELP = ("html: a printable page (the default); md: Markdown; docx: a Word document; json: the report as "
               "data, with the figures every format shows")
# The HTML report is one self-contained page: its style is inline, and it fetches nothing.
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}

router = APIRouter(tags=["Meetings"])
pages_router = APIRouter(include_in_schema=False)


@router.get("/meetings/{item_id}/report", response_class=Response, dependencies=[expensive_read()], responses={
    200: {"description": "The report, in the format asked for",
          "content": {MEDIA_TYPES[f]: {"schema": {"type": "object"} if f == "json" else
                                       {"type": "string", **({"format": "binary"} if f == "docx" else {})}}
                      for f in FORMATS}},
    404: {"description": "No meeting with this id that you may read"}})
def meeting_report(item_id: str, actor: CurrentActor, service: Service,
                   format: Annotated[Format, Query(description=FORMAT_HELP)] = "html"):
    """The Secretariat's progress report for the meeting, as of its first day: mandates in force and their
    progress, what changed since the previous meeting of the same body, what became of that meeting's
    conclusions, and support to Parties as counts by Party, kind and outcome."""
    return _report_response(service, item_id, actor, format)


@pages_router.get("/ui/{collection}/{item_id}/report", dependencies=[expensive_read(page_actor)])
@shows_errors
def meeting_report_page(request: Request, collection: str, item_id: str, service: Service, actor: PageActor,
                        format: str = "html"):
    """The same report for a signed-in browser: the meeting page's download links."""
    if collection != MEETINGS:
        raise NotFound(f"there is a report for meetings only, not for {collection}")
    if format not in FORMATS:
        format = "html"
    return _report_response(service, item_id, actor, format)


def _report_response(service, item_id: str, actor: Actor, format: str) -> Response:
    document = rendered(progress_report(service, item_id, actor), format, service.tz)
    disposition = "inline" if format in ("html", "json") else "attachment"
    return Response(document.body, media_type=document.media_type,
                    headers={**HEADERS, "Content-Disposition": f'{disposition}; filename="{document.filename}"'})
