"""Files attached to items, over HTTP on a live server, on SQLite and on PostgreSQL (issue 11, part 4).

A file round-trips byte for byte; bytes changed in the store after attaching are refused on download;
another Party's request answers its attachment routes exactly as an id that names nothing; the limits
(size, kinds) refuse before anything is recorded; an auditor reads files but never attaches one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest

from tests.conftest import POSTGRES
from tests.e2e.conftest import Server, assert_problem, create, history_of, request_body, task_body

ODD_NAME = "Zapisnik — sjednica č. 3; v2 (final).pdf"  # (a browser sends a double quote as %22 itself)
LIMIT = 25_000_000  # the default SECRETARIAT_ATTACHMENT_MAX_BYTES


def pdf(size: int = 300_000) -> bytes:
    """A file with the PDF magic number and random bytes: no two tests share one, so none meets another's."""
    return b"%PDF-1.7\n" + os.urandom(size)


def upload(client: httpx.Client, collection: str, item_id: str, content: bytes, name: str = "minutes.pdf",
           media_type: str = "application/pdf") -> httpx.Response:
    return client.post(f"/{collection}/{item_id}/attachments", files={"file": (name, content, media_type)})


def _version(server: Server, collection: str, item_id: str) -> int:
    return server.client("sara").get(f"/{collection}/{item_id}").json()["version"]


def test_a_file_round_trips_byte_for_byte_with_safe_headers_and_its_digest_in_the_history(server):
    sara = server.client("sara")
    task = create(server.client("erik"), "tasks", task_body())
    content = pdf(3_000_000)
    sha256 = hashlib.sha256(content).hexdigest()

    added = upload(sara, "tasks", task["id"], content, name=ODD_NAME)

    assert added.status_code == 201, added.text
    entry = added.json()
    assert entry | {"added_at": None} == {"sha256": sha256, "name": ODD_NAME, "media_type": "application/pdf",
                                          "size": len(content), "added_by": "sara", "added_at": None,
                                          "url": f"/tasks/{task['id']}/attachments/{sha256}"}
    assert added.headers["location"] == entry["url"]
    listed = sara.get(f"/tasks/{task['id']}/attachments").json()["attachments"]
    assert listed == [entry]
    download = server.client("audrey").get(entry["url"])  # an auditor reads what the item's readers read
    assert download.status_code == 200, download.text
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Zapisnik _ sjednica _. 3_ v2 (final).pdf\"; "
        f"filename*=UTF-8''{quote(ODD_NAME, safe='')}")
    added_events = [e for e in history_of(sara, "tasks", task["id"]) if e["type"] == "Task.AttachmentAdded"]
    assert [e["data"] for e in added_events] == [{"sha256": sha256, "name": ODD_NAME,
                                                  "media_type": "application/pdf", "size": len(content)}]
    assert added_events[0]["actor"] == "sara"


def test_the_same_file_again_records_nothing_new(server):
    sara = server.client("sara")
    task = create(server.client("erik"), "tasks", task_body())
    content = pdf()
    assert upload(sara, "tasks", task["id"], content).status_code == 201
    version = _version(server, "tasks", task["id"])
    again = upload(sara, "tasks", task["id"], content, name="copy.pdf")
    assert again.status_code == 200 and again.json()["name"] == "minutes.pdf", again.text
    assert _version(server, "tasks", task["id"]) == version


def _tamper(server: Server, sha256: str) -> None:
    """Change the kept bytes behind the server's back: the file beside the SQLite store, or its PostgreSQL row."""
    if server.store == "sqlite":
        path = Path(server.workdir) / "e2e-attachments" / sha256[:2] / sha256
        data = bytearray(path.read_bytes())
        data[100] ^= 0xFF
        path.write_bytes(bytes(data))
        return
    import psycopg

    with psycopg.connect(autocommit=True, **POSTGRES) as conn:
        changed = conn.execute(f"UPDATE {server.schema}.attachment_chunks SET content = %s WHERE sha256 = %s "
                               "AND n = 0", (b"%PDF-1.7\nsomething else", sha256)).rowcount
    assert changed == 1


def test_a_stored_file_changed_after_attaching_is_refused_on_download_with_a_clear_error(server):
    sara = server.client("sara")
    task = create(server.client("erik"), "tasks", task_body())
    content = pdf()
    url = upload(sara, "tasks", task["id"], content).json()["url"]
    assert sara.get(url).content == content

    _tamper(server, hashlib.sha256(content).hexdigest())

    refused = sara.get(url)
    assert_problem(refused, 409, "the stored file no longer matches its digest")
    assert "content-disposition" not in refused.headers

    # Sending the same file again records nothing new and repairs the stored copy.
    version = _version(server, "tasks", task["id"])
    assert upload(sara, "tasks", task["id"], content).status_code == 200
    repaired = sara.get(url)
    assert (repaired.status_code, repaired.content) == (200, content)
    assert _version(server, "tasks", task["id"]) == version


def _blank(response: httpx.Response, the_id: str) -> tuple[int, str, str]:
    return response.status_code, response.headers["content-type"], response.text.replace(the_id, "{ID}")


def test_a_party_liaison_learns_nothing_of_another_partys_attachments(server):
    serbian = create(server.client("milan"), "support-requests", request_body(party="RS"))
    content = pdf()
    assert upload(server.client("milan"), "support-requests", serbian["id"], content).status_code == 201
    sha256 = hashlib.sha256(content).hexdigest()
    alba, random_id = server.client("alba"), str(uuid4())
    version = _version(server, "support-requests", serbian["id"])

    for method, suffix, files in (("GET", "", None), ("GET", f"/{sha256}", None),
                                  ("POST", "", {"file": ("more.pdf", pdf(), "application/pdf")})):
        hidden = alba.request(method, f"/support-requests/{serbian['id']}/attachments{suffix}", files=files)
        absent = alba.request(method, f"/support-requests/{random_id}/attachments{suffix}", files=files)
        assert hidden.status_code == 404, hidden.text
        assert _blank(hidden, serbian["id"]) == _blank(absent, random_id)
    assert _version(server, "support-requests", serbian["id"]) == version
    assert server.client("milan").get(f"/support-requests/{serbian['id']}/attachments/{sha256}").content == content


def test_an_auditor_never_attaches_and_a_liaison_attaches_to_their_own_request(server):
    request = create(server.client("alba"), "support-requests", request_body(party="AL"))
    refused = upload(server.client("audrey"), "support-requests", request["id"], pdf())
    assert_problem(refused, 403, "attaching files")
    assert _version(server, "support-requests", request["id"]) == 1
    assert upload(server.client("alba"), "support-requests", request["id"], pdf()).status_code == 201


def test_a_file_over_the_limit_is_refused_and_nothing_is_recorded(server):
    sara = server.client("sara")
    task = create(server.client("erik"), "tasks", task_body())
    over = upload(sara, "tasks", task["id"], pdf(LIMIT + 1 - 9))
    assert_problem(over, 413, f"larger than the limit of {LIMIT} bytes")
    assert _version(server, "tasks", task["id"]) == 1
    assert sara.get(f"/tasks/{task['id']}/attachments").json() == {"attachments": []}
    # The large limit is the upload's alone: every other route keeps the 1 MiB one.
    assert_problem(sara.post("/tasks", json={**task_body(), "description": "x" * (2 << 20)}), 413)


@pytest.mark.parametrize("name, content, media_type, said", [
    ("tool.exe", b"MZ\x90\x00" + os.urandom(1000), "application/octet-stream", "allowed are"),
    ("minutes.pdf", b"\x89PNG\r\n\x1a\n" + os.urandom(1000), "application/pdf", "its content is not application/pdf"),
    ("minutes.pdf", pdf(), "image/png", "sent as image/png"),
    ("agenda.txt", b"Agenda\x00\xff\xfe", "text/plain", "its content is not text/plain"),
])
def test_a_kind_not_allowed_is_refused_and_nothing_is_recorded(server, name, content, media_type, said):
    sara = server.client("sara")
    task = create(server.client("erik"), "tasks", task_body())
    assert_problem(upload(sara, "tasks", task["id"], content, name=name, media_type=media_type), 415, said)
    assert _version(server, "tasks", task["id"]) == 1


def test_text_and_office_kinds_are_taken_with_the_media_type_of_their_kind(server):
    sara = server.client("sara")
    task = create(server.client("erik"), "tasks", task_body())
    csv = "Party,Officers\nAL,4\nRS,3\nŠ,1\n".encode()
    added = upload(sara, "tasks", task["id"], csv, name="officers.csv", media_type="text/plain")
    assert added.status_code == 201 and added.json()["media_type"] == "text/csv", added.text
    assert sara.get(added.json()["url"]).content == csv
