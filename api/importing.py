"""POST /import: an admin imports past records (a history in JSON Lines, or CSV with one row per item).

The body is bounded like every body (the server's limit, 1 MiB by default: 413 beyond) and so are its lines
(`MAX_LINES`); the answer is the import's report (see importing/). The work itself is importing/'s.
"""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import CurrentActor, Service
from api.rendering import JSON
from domain.errors import Forbidden
from importing import import_history_text

MAX_LINES = 10_000
# JSON Lines is text: text/plain is read as JSON Lines too (and lets generic clients, schemathesis, send it).
MEDIA_TYPES = {"application/jsonl": "jsonl", "application/x-ndjson": "jsonl", "text/plain": "jsonl", "text/csv": "csv"}


class ImportRefusal(BaseModel):
    line: int = Field(..., description="The line's number in the body (1 is the first; a CSV header is line 1)")
    ref: Optional[str] = Field(..., description="The item the line belongs to; null when it could not be read")
    reason: str


class ImportReportPublic(BaseModel):
    ok: bool = Field(..., description="True when no line was refused")
    dry_run: bool
    lines: int = Field(..., description="Lines read (blank lines and # comments aside)")
    items_imported: int
    events: int = Field(..., description="Events recorded, the linked items' bookkeeping included")
    already_present: list[str] = Field(..., description="Refs of items already in the store, left as they are")
    refused: int
    refusals: list[ImportRefusal] = Field(..., description="One per refused item (its first refused line), and "
                                                           "one per line that could not be read, in line order")


router = APIRouter(tags=["Import"])
_EXAMPLE = ('{"ref": "t1", "collection": "tasks", "action": "create", "actor": "erik", "occurred_at": '
            '"2015-06-01T09:00:00Z", "values": {"title": "Catalogue agreements", "assignee": "sara", '
            '"due": "2015-09-01"}, "reason": null}\n')
_BODY = {"required": True, "content": {
    "application/jsonl": {"schema": {"type": "string"}},
    "text/plain": {"schema": {"type": "string"}, "example": _EXAMPLE},  # the example where every client can send it
    "text/csv": {"schema": {"type": "string"}}}}


@router.post("/import", response_model=ImportReportPublic, openapi_extra={"requestBody": _BODY}, responses={
    403: {"description": "Only an admin imports"},
    413: {"description": f"The body is larger than the server's limit, or has more than {MAX_LINES} lines"}})
async def import_history(request: Request, actor: CurrentActor, service: Service,
                         collection: Annotated[Optional[str], Query(max_length=64, description=(
                             "CSV: the collection of every row, when the body has no collection column"))] = None,
                         dry_run: Annotated[bool, Query(description="Check everything, record nothing")] = False):
    """Import past records (admin): each item whole or not at all, through the same checks as live commands;
    importing the same history again adds nothing. Answers the report: counts, and refusals with line numbers."""
    if not actor.has_role("admin"):
        raise Forbidden("importing past records is for admins")
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent not in MEDIA_TYPES:
        raise HTTPException(415, f"send the history as one of: {', '.join(MEDIA_TYPES)}")
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(400, "the body is not UTF-8 text") from None
    if text.count("\n") + 1 > MAX_LINES:
        raise HTTPException(413, f"the history has more than {MAX_LINES} lines; send it in parts (a part may name "
                                 "items of an earlier part by id, and a part sent again adds nothing)")
    report = await run_in_threadpool(import_history_text, service, text, format=MEDIA_TYPES[sent],
                                     collection=collection, dry_run=dry_run)
    return JSON(report.as_dict())
