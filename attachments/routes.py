"""The attachments' HTTP routes, for every workflow collection, and their page parts.

`POST /{collection}/{id}/attachments` (multipart, field `file`), `GET /{collection}/{id}/attachments`,
`GET /{collection}/{id}/attachments/{sha256}`; the pages' `/ui/{collection}/{id}/attachments[/{sha256}]`
do the same with the sign-in cookie. Whether the caller may know the item is asked first, so another
Party's request answers exactly as an id that names nothing, whatever file or digest is sent.

No `from __future__ import annotations` here: FastAPI must see `UploadFile` and `Path` themselves.
"""

import logging
import re
import unicodedata
from pathlib import PurePosixPath
from typing import Annotated, Any, BinaryIO, Iterator, Optional
from urllib.parse import quote

from fastapi import APIRouter, File, Header, HTTPException, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import BaseModel

from api.deps import CurrentActor, Service
from api.expensive import expensive_read
from api.page_session import CHECKED_POST, PageActor
from api.pages import render_item_page, page_workflow, shows_errors
from api.rendering import JSON, read_your_write
from attachments.blobs import BlobStore, StoredFileChanged, verified_copy
from attachments.kinds import NotAllowed, TooLarge, measure, media_type_of
from domain.actor import Actor
from domain.application import SecretariatApplication
from domain.attachment import Attachment
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.idempotency import IdempotentOutcome
from domain.item import WorkflowItem

log = logging.getLogger("secretariat.attachments")

# What a multipart body adds around the file (boundaries, part headers): the body limit allows this much more.
MULTIPART_ALLOWANCE = 64 * 1024
Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="The file's SHA-256, as the item lists it")]
Prefer = Annotated[Optional[str], Header(description="wait-for-projection: answer once lists show the change")]


class AttachmentPublic(BaseModel):
    sha256: str
    name: str
    media_type: str
    size: int
    added_by: str
    added_at: str
    url: str


class AttachmentList(BaseModel):
    attachments: list[AttachmentPublic]


class Attachments:
    """The capability as an application holds it: where bytes are kept, and the largest file taken."""

    def __init__(self, blobs: BlobStore, max_bytes: int) -> None:
        self.blobs = blobs
        self.max_bytes = max_bytes
        self._uploads: re.Pattern[str] | None = None

    def routers(self, collections: list[str]) -> list[APIRouter]:
        """One API router per collection (so OpenAPI names each path), and the pages' router."""
        self._uploads = re.compile(rf"(/ui)?/({'|'.join(map(re.escape, collections))})/[^/]+/attachments")
        return [*(self._api_router(c) for c in collections), self._page_router()]

    def body_limit(self, method: str, path: str) -> int | None:
        """The body an upload route may take (the file and its multipart wrapping); None for every other route."""
        if method == "POST" and self._uploads is not None and self._uploads.fullmatch(path):
            return self.max_bytes + MULTIPART_ALLOWANCE
        return None

    # -- what the routes share -------------------------------------------------------------------------

    def add(self, service: SecretariatApplication, collection: str, item_id: str, actor: Actor,
            upload: UploadFile) -> tuple[IdempotentOutcome, dict[str, Any]]:
        item = service.visible_item(collection, item_id, actor)  # first: nothing below may tell hidden from absent
        if not item.may_attach(actor):
            raise Forbidden(f"attaching files to a {item.workflow.title.lower()} needs a role that may act on it")
        name = PurePosixPath((upload.filename or "").replace("\\", "/")).name  # some browsers send a whole path
        name = unicodedata.normalize("NFC", name)
        try:
            measured = measure(upload.file, self.max_bytes)
            media_type = media_type_of(name, upload.content_type, measured)
        except TooLarge as error:
            raise HTTPException(413, str(error)) from None
        except NotAllowed as error:
            raise HTTPException(415, str(error)) from None
        attachment = Attachment(measured.sha256, name, media_type, measured.size)
        outcome = service.attach(collection, item_id, actor, attachment,
                                 keep_bytes=lambda: self.blobs.keep(measured.sha256, upload.file))
        return outcome, outcome.item.attachment(measured.sha256)

    def download(self, service: SecretariatApplication, collection: str, item_id: str, sha256: str,
                 actor: Actor) -> StreamingResponse:
        item = service.visible_item(collection, item_id, actor)
        entry = _entry(item, sha256)
        try:
            copy = verified_copy(self.blobs, sha256, entry["size"])
        except StoredFileChanged as error:
            log.error("%s %s: %s", collection, item.id, error)  # for the operator: the store was tampered with
            raise Conflict(str(error)) from None
        headers = {"Content-Disposition": content_disposition(entry["name"]), "Content-Length": str(entry["size"]),
                   "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
                   "Content-Security-Policy": "default-src 'none'; sandbox", "ETag": f'"{sha256}"'}
        return StreamingResponse(_streamed(copy), media_type=entry["media_type"], headers=headers)

    # -- the routes -----------------------------------------------------------------------------------------

    def _api_router(self, collection: str) -> APIRouter:
        router = APIRouter(prefix=f"/{collection}", tags=["Attachments"])

        @router.post("/{item_id}/attachments", status_code=201, response_model=AttachmentPublic,
                     name=f"{collection}.attach", responses={
                         200: {"description": "The same file was attached already: nothing new is recorded",
                               "model": AttachmentPublic},
                         413: {"description": f"The file is larger than the limit ({self.max_bytes} bytes)"},
                         415: {"description": "The file's kind is not allowed, or its bytes are not what its "
                                              "name says"}})
        def attach(item_id: str, file: Annotated[UploadFile, File(description="The file (multipart field `file`)")],
                   actor: CurrentActor, service: Service, request: Request, prefer: Prefer = None):
            """Attach a file to the item (whoever reads it and may act on it); its SHA-256 goes into its history."""
            outcome, entry = self.add(service, collection, item_id, actor, file)
            url = f"/{collection}/{outcome.item.id}/attachments/{entry['sha256']}"
            response = JSON(_public(entry, url), status_code=outcome.status, headers={"Location": url})
            return read_your_write(request, outcome.position, response)

        @router.get("/{item_id}/attachments", response_model=AttachmentList, name=f"{collection}.attachments")
        def attachments(item_id: str, actor: CurrentActor, service: Service):
            """The files attached to the item, oldest first (for whoever reads the item)."""
            item = service.visible_item(collection, item_id, actor)
            return JSON({"attachments": [_public(a, f"/{collection}/{item.id}/attachments/{a['sha256']}")
                                         for a in item.attachments]})

        @router.get("/{item_id}/attachments/{sha256}", name=f"{collection}.attachment",
                    dependencies=[expensive_read()], response_class=StreamingResponse, responses={
                        200: {"description": "The file's bytes, as attached", "content": {"*/*": {}}},
                        409: {"description": "The stored file no longer matches its digest: it is not served"}})
        def download(item_id: str, sha256: Sha256, actor: CurrentActor, service: Service):
            """The file, its digest checked again (for whoever reads the item)."""
            return self.download(service, collection, item_id, sha256, actor)

        return router

    def _page_router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)

        @router.post("/ui/{collection}/{item_id}/attachments", dependencies=CHECKED_POST)
        @shows_errors
        def attach_from_page(request: Request, collection: str, item_id: str, service: Service, actor: PageActor,
                             file: Annotated[Optional[UploadFile], File()] = None):
            workflow = page_workflow(collection)
            try:
                if file is None or not file.filename:
                    raise ValidationFailed("file", "choose a file to attach")
                try:
                    outcome, _entry = self.add(service, collection, item_id, actor, file)
                except HTTPException as refused:  # too large, or a kind not allowed: shown on the item's page
                    raise ValidationFailed("file", str(refused.detail)) from None
            except (ValidationFailed, Forbidden) as error:
                # A form without a file is refused before the item is looked at: an item the caller may not know
                # must answer that as an id that names nothing does.
                service.visible_item(collection, item_id, actor)
                return render_item_page(request, service, actor, workflow, item_id, error=error, failed=("attach", {}))
            if outcome.position is not None:
                request.app.state.runner.wait_for(outcome.position, timeout=2.0)
            return RedirectResponse(f"/ui/{collection}/{outcome.item.id}#attachments", 303)

        @router.get("/ui/{collection}/{item_id}/attachments/{sha256}")
        @shows_errors
        def download_from_page(request: Request, collection: str, item_id: str, sha256: str, service: Service,
                               actor: PageActor):
            page_workflow(collection)
            return self.download(service, collection, item_id, sha256, actor)

        return router


def _entry(item: WorkflowItem, sha256: str) -> dict[str, Any]:
    entry = item.attachment(sha256)
    if entry is None:
        raise NotFound(f"no file with SHA-256 {sha256} is attached to this {item.workflow.title.lower()}")
    return entry


def _public(entry: dict[str, Any], url: str) -> dict[str, Any]:
    return {"sha256": entry["sha256"], "name": entry["name"], "media_type": entry["media_type"],
            "size": entry["size"], "added_by": entry["added_by"], "added_at": entry["added_at"].isoformat(),
            "url": url}


def content_disposition(name: str) -> str:
    """`attachment` with the name twice: plain ASCII for old clients, and RFC 5987 UTF-8 for the rest."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _streamed(copy: BinaryIO) -> Iterator[bytes]:
    with copy:
        while chunk := copy.read(64 * 1024):
            yield chunk

