"""Importing past records against a live server: POST /import for admins only, and `secretariat import`."""

from __future__ import annotations

import json
from uuid import uuid5


from importing.importer import IMPORT_NAMESPACE
from tests.e2e.conftest import assert_problem, unique


def history(prefix: str) -> str:
    """A mandate and a task with a 2015 history (good), and a task whose second line is refused (line 4)."""
    def line(ref, collection, action, actor, at, values=None, reason=None):
        return json.dumps({"ref": f"{prefix}{ref}", "collection": collection, "action": action, "actor": actor,
                           "occurred_at": at, "values": values or {}, "reason": reason})
    task = {"title": "Catalogue agreements", "assignee": "sara", "due": "2015-09-01"}
    return "\n".join([
        line("m", "mandates", "record", "sara", "2015-05-05T10:00:00+02:00",
             {"reference": f"CoM-IMP-{prefix}", "title": "Support Parties", "decided_on": "2015-05-05",
              "assigned_to": "secretariat", "meeting": "CoM, Sofia"}),
        line("t", "tasks", "create", "erik", "2015-06-01T09:00:00Z", {**task, "mandate_id": {"$ref": f"{prefix}m"}}),
        line("t", "tasks", "start", "sara", "2015-06-10T09:00:00Z"),
        line("bad", "tasks", "create", "erik", "2015-06-01T09:00:00Z", task),
        line("bad", "tasks", "approve", "erik", "2015-06-02T09:00:00Z"),
    ]) + "\n"


def post_import(client, text: str, **params):
    return client.post("/import", content=text.encode(), params=params,
                       headers={"Content-Type": "application/jsonl"})


def test_an_admin_imports_a_history_and_gets_the_report_with_line_numbers(as_user):
    prefix = unique("api-")
    report = post_import(as_user("admin"), history(prefix))
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["ok"] is False and body["items_imported"] == 2 and body["refused"] == 1
    assert [(r["line"], r["ref"]) for r in body["refusals"]] == [(5, f"{prefix}bad")]
    assert "cannot approve" in body["refusals"][0]["reason"]
    task = as_user("sara").get(f"/tasks/{uuid5(IMPORT_NAMESPACE, prefix + 't')}")
    assert task.status_code == 200 and task.json()["state"] == "in_progress"

    again = post_import(as_user("admin"), history(prefix)).json()
    assert again["items_imported"] == 0 and again["events"] == 0 and len(again["already_present"]) == 2


def test_importing_is_for_admins_only(as_user, anonymous):
    assert_problem(post_import(as_user("sara"), history(unique("x-"))), 403)
    assert_problem(post_import(as_user("hana"), history(unique("x-"))), 403)
    assert_problem(post_import(anonymous, history(unique("x-"))), 401)


def test_an_import_in_another_media_type_or_too_long_is_refused(as_user):
    admin = as_user("admin")
    assert_problem(admin.post("/import", content=b"{}", headers={"Content-Type": "application/json"}), 415)
    assert_problem(post_import(admin, "\n" * 10_001), 413)
    assert_problem(post_import(admin, "#" * (2 << 20)), 413)


def test_a_dry_run_records_nothing(as_user):
    prefix = unique("dry-")
    assert post_import(as_user("admin"), history(prefix), dry_run="true").json()["items_imported"] == 2
    assert as_user("sara").get(f"/tasks/{uuid5(IMPORT_NAMESPACE, prefix + 't')}").status_code == 404


def test_the_command_line_prints_the_report_and_exits_1_when_a_line_is_refused(server, tmp_path):
    prefix = unique("cli-")
    path = tmp_path / "history.jsonl"
    path.write_text(history(prefix))
    result = server.cli("import", str(path))
    assert result.returncode == 1, result.stderr
    assert "5" in result.stdout and f"{prefix}bad" in result.stdout and "cannot approve" in result.stdout
    assert "imported 2 items" in result.stdout

    good = tmp_path / "good.jsonl"
    good.write_text("".join(l + "\n" for l in history(unique("ok-")).splitlines()[:3]))
    assert server.cli("import", str(good)).returncode == 0
    again = server.cli("import", str(good))
    assert again.returncode == 0 and "2 already imported" in again.stdout


def test_items_read_as_of_a_past_instant_answer_by_effective_time(as_user):
    prefix = unique("asof-")
    assert post_import(as_user("admin"), history(prefix)).status_code == 200
    url = f"/tasks/{uuid5(IMPORT_NAMESPACE, prefix + 't')}"
    sara = as_user("sara")
    assert sara.get(url, params={"as_of": "2015-06-05T12:00:00Z"}).json()["state"] == "open"
    assert sara.get(url, params={"as_of": "2015-06-11T12:00:00Z"}).json()["state"] == "in_progress"


def test_the_openapi_document_lists_the_import_with_its_media_types(anonymous):
    operation = anonymous.get("/openapi.json").json()["paths"]["/import"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/jsonl", "text/plain", "text/csv"}
    assert {"200", "401", "403", "413", "415"} <= set(operation["responses"])
