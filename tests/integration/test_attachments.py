"""Attachments below HTTP, on each real store: who may attach, the bytes kept by digest and checked again on
reading, the event saved only once its bytes are kept, and the audit export's manifest of digests."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import update

from attachments.blobs import StoredFileChanged, TableBlobs, attachment_chunks, blob_store_for, verified_copy
from attachments.kinds import CHUNK
from domain.attachment import Attachment
from domain.errors import Forbidden, NotFound, ValidationFailed
from audit.seal import AuditChainProjection
from projections.database import engine_for
from projections.runner import ProjectionRunner
from audit.bundle_check import verify_bundle
from audit.bundle_format import ATTACHMENTS
from audit.export import write_bundle
from audit.signing import AUDIT_KEY_FILE, load_or_create_key
from tests.factories import ALBA, AUDREY, ERIK, MILAN, SARA, mandate_values, request_values


def _described(content: bytes, name: str = "minutes.pdf") -> Attachment:
    return Attachment(hashlib.sha256(content).hexdigest(), name, "application/pdf", len(content))


def test_bytes_are_kept_by_digest_and_refused_once_changed(store_env, tmp_path):
    blobs = blob_store_for(store_env)
    content = b"%PDF-1.7\n" + os.urandom(2 * CHUNK + 123)  # more than one chunk
    sha256 = hashlib.sha256(content).hexdigest()
    blobs.keep(sha256, io.BytesIO(content))
    blobs.keep(sha256, io.BytesIO(content))  # kept again: harmless
    with verified_copy(blobs, sha256, len(content)) as copy:
        assert copy.read() == content

    if isinstance(blobs, TableBlobs):
        with blobs.engine.begin() as conn:
            conn.execute(update(attachment_chunks).where(attachment_chunks.c.sha256 == sha256,
                                                         attachment_chunks.c.n == 1).values(content=b"x"))
    else:
        path = Path(store_env["SQLITE_DBNAME"]).parent / "events-attachments" / sha256[:2] / sha256
        assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0  # owner-only
        path.write_bytes(content[:-1] + b"!")
    with pytest.raises(StoredFileChanged, match="no longer matches its digest"):
        verified_copy(blobs, sha256, len(content))
    blobs.keep(sha256, io.BytesIO(content))  # the file sent again repairs the damaged copy
    with verified_copy(blobs, sha256, len(content)) as copy:
        assert copy.read() == content
    with pytest.raises(StoredFileChanged, match="missing"):
        verified_copy(blobs, "0" * 64, 1)


def test_whoever_reads_and_may_act_attaches_and_nobody_else(service):
    request = service.submit_support_request(ALBA, request_values(party="AL")).item
    content = b"%PDF-1.7\nPlan of the exchange"
    for refused, error in ((AUDREY, Forbidden), (MILAN, NotFound), (ERIK, NotFound)):
        with pytest.raises(error):
            service.attach("support-requests", request.id, refused, _described(content),
                           keep_bytes=lambda: pytest.fail("bytes kept for a refused attachment"))
    kept = []
    outcome = service.attach("support-requests", request.id, ALBA, _described(content),
                             keep_bytes=lambda: kept.append(True))
    assert (outcome.status, kept) == (201, [True])
    again = service.attach("support-requests", request.id, SARA, _described(content, "copy.pdf"),
                           keep_bytes=lambda: kept.append(True))
    # The same file: nothing recorded; its bytes kept again, which repairs a copy damaged since.
    assert (again.status, kept) == (200, [True, True])
    item = service.get_item("support-requests", request.id, AUDREY)
    assert [(a["sha256"], a["name"], a["added_by"]) for a in item.attachments] == [
        (hashlib.sha256(content).hexdigest(), "minutes.pdf", "alba")]
    assert item.version == 2


def test_no_event_is_saved_when_the_bytes_could_not_be_kept(service):
    mandate = service.record_mandate(SARA, mandate_values()).item

    def disk_trouble() -> None:
        raise OSError("no space left on device")

    with pytest.raises(OSError):
        service.attach("mandates", mandate.id, SARA, _described(b"%PDF-1.7\n"), keep_bytes=disk_trouble)
    assert service.get_item("mandates", mandate.id, SARA).version == 1


@pytest.mark.parametrize("name, size, field", [("", 10, "file"), ("a/b.pdf", 10, "file"), ("x\x07.pdf", 10, "file"),
                                               ("a.pdf", 0, "file")])
def test_a_description_that_cannot_be_shown_safely_is_refused(name, size, field):
    with pytest.raises(ValidationFailed) as refused:
        Attachment("a" * 64, name, "application/pdf", size)
    assert refused.value.field == field


def test_the_audit_export_carries_the_digests_in_a_signed_manifest(service, store_env, tmp_path):
    mandate = service.record_mandate(SARA, mandate_values()).item
    content = b"%PDF-1.7\nMinutes"
    service.attach("mandates", mandate.id, SARA, _described(content, "Minutes — č.pdf"), keep_bytes=lambda: None)
    runner = ProjectionRunner(service, engine_for(store_env, writer=True), [AuditChainProjection()],
                              reader=engine_for(store_env))
    runner.setup()
    runner.catch_up(runner.projections[0])
    key = load_or_create_key(tmp_path / AUDIT_KEY_FILE)[0]
    path = tmp_path / "export.zip"
    checkpoint = write_bundle(service, runner.reader, path, key)
    with zipfile.ZipFile(path) as bundle:
        manifest = [json.loads(line) for line in bundle.read(ATTACHMENTS).splitlines()]
    assert manifest == [{"position": 2, "item_id": str(mandate.id), "topic": "domain.mandate:Mandate.AttachmentAdded",
                         "sha256": hashlib.sha256(content).hexdigest(), "name": "Minutes — č.pdf",
                         "media_type": "application/pdf", "size": len(content)}]
    assert checkpoint["export"]["attachments"] == 1 and verify_bundle(path)["ok"] is True

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data.replace(b"Minutes", b"Agenda!") if name == ATTACHMENTS else data)
    result = verify_bundle(tampered)
    assert result["ok"] is False and result["at"] == ATTACHMENTS, result
    runner.engine.dispose()
    runner.reader.dispose()
