"""Downloads for auditors: a signed checkpoint of the chain's head, and the signed export bundle.

Both are what `secretariat audit checkpoint` and `secretariat audit export` write (audit/export.py);
the composition root hands the app an `AuditArchive` that makes them with the
audit signing key beside the data (`app.state.audit_archive`). A bundle holds every event of the
log, so only a reader of the whole log may take one: one whose scope of every Party-confidential
workflow is all of it (today the auditor and the head).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from api.back_office import error_page, render
from api.deps import RunnerDep
from api.expensive import expensive_read
from api.limits import check_deadline
from api.page_session import PageActor, page_actor
from audit.access import reads_whole_log
from audit.archive import ArchiveUnavailable
from domain.actor import Actor
from domain.errors import DomainError, Forbidden

SEAL_WAIT_SECONDS = 5.0


class AuditArchive(Protocol):
    def checkpoint(self) -> dict[str, Any]:
        """A signed checkpoint of the chain's sealed head (ArchiveUnavailable when nothing is sealed)."""

    def export(self, target: Path, *, progress: Callable[[int], None]) -> dict[str, Any]:
        """Write the whole chain's signed bundle (a zip) to `target`; its checkpoint (ArchiveUnavailable)."""


router = APIRouter(include_in_schema=False)


@router.get("/ui/audit/checkpoint", dependencies=[expensive_read(page_actor)])
def checkpoint_download(request: Request, runner: RunnerDep, actor: PageActor):
    """The chain's head signed with the audit key, as a JSON file to hand over and prove later."""
    try:
        archive = _archive_for(request, actor)
        runner.wait_for(runner.head(), timeout=SEAL_WAIT_SECONDS)
        checkpoint = archive.checkpoint()
    except (DomainError, ArchiveUnavailable) as error:
        return _refused(request, actor, error)
    name = f"secretariat-checkpoint-{checkpoint['length']}-{_stamp(checkpoint)}.json"
    return Response(json.dumps(checkpoint, indent=2) + "\n", media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.get("/ui/audit/export", dependencies=[expensive_read(page_actor)])
def export_download(request: Request, runner: RunnerDep, actor: PageActor):
    """The signed, self-contained bundle of the whole chain (events, chain, checkpoint, public key, README),
    checked offline with `secretariat audit verify-export`."""
    try:
        archive = _archive_for(request, actor)
    except (DomainError, ArchiveUnavailable) as error:
        return _refused(request, actor, error)
    folder = Path(tempfile.mkdtemp(prefix="secretariat-export-"))  # the bundle's, removed once it is sent
    try:
        runner.wait_for(runner.head(), timeout=SEAL_WAIT_SECONDS)
        # Walks the whole log: it stops once its request has been answered at the time limit.
        checkpoint = archive.export(folder / "bundle.zip", progress=check_deadline)
    except ArchiveUnavailable as error:
        shutil.rmtree(folder, ignore_errors=True)
        return _refused(request, actor, error)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = f"secretariat-audit-{checkpoint['length']}-{_stamp(checkpoint)}.zip"
    return FileResponse(folder / "bundle.zip", media_type="application/zip", filename=name,
                        headers={"Cache-Control": "no-store"},
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


def _archive_for(request: Request, actor: Actor) -> AuditArchive:
    if not reads_whole_log(actor):
        raise Forbidden("a checkpoint or export of the audit log needs a role that reads the whole log: auditor "
                        "or head")
    archive: AuditArchive | None = request.app.state.audit_archive  # set by create_api's caller (or None)
    if archive is None:
        raise ArchiveUnavailable("this server was started without the audit signing key; use `secretariat audit "
                                 "export` on the server instead")
    return archive


def _refused(request: Request, actor: Actor, error: DomainError | ArchiveUnavailable) -> Response:
    if isinstance(error, DomainError):
        return error_page(request, actor, error, section="audit")
    return render(request, "audit_unavailable.html", actor, section="audit", status=503, detail=str(error))


def _stamp(checkpoint: dict[str, Any]) -> str:
    return datetime.fromisoformat(checkpoint["time"]).strftime("%Y%m%dT%H%M%SZ")
