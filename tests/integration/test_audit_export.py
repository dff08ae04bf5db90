"""Checkpoints against the store, export bundles checked offline, and every kind of tampering with a bundle refused
at its place, on each real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import text

from audit.chain import entry_hash, read_payload
from audit.seal import AuditChainProjection, audit_chain
from projections.database import engine_for
from projections.runner import ProjectionRunner
from audit.bundle_check import verify_bundle
from audit.bundle_format import ATTACHMENTS, CHAIN, CHECKPOINT, EVENTS, PUBLIC_KEY
from audit.export import ExportRefused, write_bundle
from audit.store import checkpoint_in_store, sealed_head
from audit.signing import (AUDIT_KEY_FILE, checkpoint_problem, load_or_create_key, public_pem,
                                       sign_checkpoint)
from tests.factories import ADMIN, CAST, ERIK, SARA, mandate_values, register_cast, task_values

SECRETARIAT = Path(sys.executable).with_name("secretariat")


@pytest.fixture
def runner(service, store_env, clock) -> Iterator[ProjectionRunner]:
    """A sealed store with some history: the cast (positions 1-7, each holding a password hash), three tasks a day
    apart, each started (8-13), and a mandate."""
    register_cast(service)
    for n in range(3):
        clock.advance(days=1)
        task = service.create_task(ERIK, task_values(title=f"Task {n} — ünïcode")).item
        service.act("tasks", task.id, "start", SARA, {})
    service.record_mandate(SARA, mandate_values())
    runner = ProjectionRunner(service, engine_for(store_env, writer=True), [AuditChainProjection()],
                              reader=engine_for(store_env), batch_size=4)
    runner.setup()
    runner.catch_up(runner.projections[0])
    yield runner
    runner.engine.dispose()
    runner.reader.dispose()


@pytest.fixture
def key(tmp_path):
    return load_or_create_key(tmp_path / AUDIT_KEY_FILE)[0]


@pytest.fixture
def bundle(service, runner, key, tmp_path) -> Path:
    path = tmp_path / "export.zip"
    write_bundle(service, runner.reader, path, key, batch_size=5)
    return path


def _lines(path: Path, member: str) -> list[bytes]:
    with zipfile.ZipFile(path) as z:
        return z.read(member).splitlines(keepends=True)


def _tampered(path: Path, changes: dict[str, Callable[[list[bytes]], list[bytes]] | bytes]) -> Path:
    """A copy of the bundle with some members changed (a function of their lines, or new contents)."""
    out = path.with_name(f"tampered-{len(list(path.parent.glob('tampered-*')))}.zip")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            change = changes.get(name)
            if callable(change):
                data = b"".join(change(data.splitlines(keepends=True)))
            elif change is not None:
                data = change
            target.writestr(name, data)
    return out


def _refused(path: Path, at: str, problem: str, **options) -> dict:
    result = verify_bundle(path, **options)
    assert result["ok"] is False, result
    assert result["at"] == at and problem in result["problem"], result
    return result


# -- checkpoints -------------------------------------------------------------------------------------


def test_a_checkpoint_of_the_head_is_proven_against_the_store_and_a_tampered_one_refused(service, runner, key):
    head = sealed_head(runner.reader)
    assert head is not None and head.length == runner.head()
    checkpoint = sign_checkpoint(key, head.position, head.hash, head.length)
    assert checkpoint_problem(checkpoint, key.public_key()) is None
    assert checkpoint_in_store(checkpoint, runner.reader) is None
    # Still proven once more events are sealed after it.
    service.create_task(ERIK, task_values(title="After the checkpoint"))
    runner.catch_up(runner.projections[0])
    assert checkpoint_in_store(checkpoint, runner.reader) is None

    assert "does not verify" in checkpoint_problem({**checkpoint, "hash": "0" * 64}, key.public_key())
    assert "does not verify" in checkpoint_problem({**checkpoint, "signature": checkpoint["signature"][::-1]})
    # Well signed, but not a head this store ever had: refused by the store.
    genuine_key_wrong_head = sign_checkpoint(key, head.position, "e" * 64, head.length)
    assert "the chain was rewritten" in checkpoint_in_store(genuine_key_wrong_head, runner.reader)
    assert "no sealed entry" in checkpoint_in_store({**checkpoint, "position": 10_000}, runner.reader)
    # The seal rewritten in the database: the checkpoint is no longer held.
    with runner.engine.begin() as conn:
        conn.execute(audit_chain.update().where(audit_chain.c.position == head.position).values(hash="f" * 64))
    assert "the chain was rewritten" in checkpoint_in_store(checkpoint, runner.reader)


# -- full export --------------------------------------------------------------------------------------


def test_a_full_export_verifies_offline_from_the_file_alone(runner, bundle, key):
    head = sealed_head(runner.reader)
    result = verify_bundle(bundle)
    assert result["ok"] is True, result
    assert (result["events"], result["full"], result["head"], result["length"]) == \
        (head.length, True, head.hash, head.length)
    assert result["key"] == "bundled (trusted on first use)"
    assert verify_bundle(bundle, trusted=key.public_key())["key"] == "pinned"
    with zipfile.ZipFile(bundle) as z:
        assert sorted(z.namelist()) == sorted([EVENTS, CHAIN, CHECKPOINT, PUBLIC_KEY, ATTACHMENTS, "README.md"])
        assert z.read(PUBLIC_KEY).decode() == public_pem(key)
    events = [json.loads(line) for line in _lines(bundle, EVENTS)]
    assert [e["position"] for e in events] == list(range(1, head.length + 1))
    assert any("ünïcode" in e.get("state", "") for e in events)  # the stored text, not \\u escapes
    # The users' registrations are redacted (they hold password hashes); every other event is shown whole.
    assert [e["topic"] for e in events if "state" not in e] == ["domain.user:User.Registered"] * len(CAST)


def test_an_export_refuses_a_store_that_does_not_match_its_seal(service, runner, key, tmp_path):
    recorder = service.recorder
    table, position = recorder.events_table_name, ("notification_id" if hasattr(recorder, "channel_name") else "rowid")
    state = recorder.select_notifications(5, 1)[0].state
    with runner.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET state = :state WHERE {position} = 5"),
                     {"state": state.replace(b'"roles":["party"]', b'"roles":["head"]')})
    path = tmp_path / "broken.zip"
    with pytest.raises(ExportRefused, match="position 5 does not match its seal"):
        write_bundle(service, runner.reader, path, key)
    assert list(tmp_path.glob("*.zip*")) == [] and list(tmp_path.glob(".*.part")) == []


EDITED = 7  # the line (from 0) that _edit_state changes: the first task's creation, shown whole


def _edit_state(lines):
    event = json.loads(lines[EDITED])
    event["state"] = event["state"].replace('"title":"Task 0', '"title":"Task X')
    assert event["state"] != json.loads(lines[EDITED])["state"]
    return [*lines[:EDITED], (json.dumps(event, ensure_ascii=False) + "\n").encode(), *lines[EDITED + 1:]]


def _swap(lines, i=3, j=4):
    lines = list(lines)
    lines[i], lines[j] = lines[j], lines[i]
    return lines


@pytest.mark.parametrize("changes, at, problem", [
    ({EVENTS: _edit_state}, "line 8 (position 8)", "does not match its chain entry"),
    ({EVENTS: lambda lines: lines[:2] + lines[3:]}, "line 3", "a line was dropped, added or moved"),
    ({EVENTS: _swap}, "line 4", "a line was dropped, added or moved"),
    ({EVENTS: _swap, CHAIN: _swap}, "line 4 (position 5)", "is missing or out of place"),
    ({EVENTS: lambda lines: lines[:-1], CHAIN: lambda lines: lines[:-1]}, EVENTS, "the checkpoint signs"),
    ({EVENTS: lambda lines: lines[:2] + lines[3:], CHAIN: lambda lines: lines[:2] + lines[3:]}, "line 3 (position 4)",
     "is missing or out of place"),
    ({CHAIN: lambda lines: [*lines[:6], lines[6].replace(b'"hash":"', b'"hash":"0')[:-4] + b'"}\n', *lines[7:]]},
     "line 7 (position 7)", "does not match its chain entry"),
    ({CHAIN: lambda lines: lines[:-1]}, f"{EVENTS} line {0}", "more lines than chain.jsonl"),
], ids=["edited-state", "dropped-event", "swapped-events", "swapped-both", "dropped-last-of-both",
        "dropped-middle-of-both", "altered-hash", "dropped-entry"])
def test_a_tampered_export_is_refused_at_its_place(bundle, changes, at, problem):
    if at == f"{EVENTS} line 0":
        at = f"{EVENTS} line {len(_lines(bundle, EVENTS))}"
    _refused(_tampered(bundle, changes), at, problem)


def test_an_event_and_its_entry_rewritten_together_break_the_next_link_and_then_the_signed_head(bundle):
    events, entries = _lines(bundle, EVENTS), _lines(bundle, CHAIN)
    forged_events = _edit_state(events)

    def rehashed(upto: int) -> list[bytes]:
        out, previous = [], None
        for number, (raw_event, raw_entry) in enumerate(zip(forged_events, entries)):
            entry = json.loads(raw_entry)
            if previous is not None and number <= upto:
                entry["previous"] = previous
            if number <= upto and number >= EDITED:
                e = json.loads(raw_event)
                entry["hash"] = entry_hash(entry["previous"], e["position"], e["originator_id"], e["version"],
                                           e["topic"], e["state"].encode())
            previous = entry["hash"]
            out.append((json.dumps(entry) + "\n").encode())
        return out

    _refused(_tampered(bundle, {EVENTS: lambda _: forged_events, CHAIN: lambda _: rehashed(EDITED)}),
             "line 9 (position 9)", "does not link to entry 8")
    # The whole chain after it recomputed: it no longer ends at the signed head.
    last = len(entries)
    _refused(_tampered(bundle, {EVENTS: lambda _: forged_events, CHAIN: lambda _: rehashed(last)}),
             f"line {last} (position {last})", "is not the signed head")


def test_a_swapped_public_key_is_refused_and_a_bundle_signed_again_by_another_key_only_without_a_pin(bundle, key,
                                                                                                     tmp_path):
    other, _ = load_or_create_key(tmp_path / "other.key")
    _refused(_tampered(bundle, {PUBLIC_KEY: public_pem(other).encode()}), CHECKPOINT, "not by the trusted key")
    with zipfile.ZipFile(bundle) as z:
        checkpoint = json.loads(z.read(CHECKPOINT))
    resigned = sign_checkpoint(other, checkpoint["position"], checkpoint["hash"], checkpoint["length"],
                               export=checkpoint["export"])
    forged = _tampered(bundle, {PUBLIC_KEY: public_pem(other).encode(), CHECKPOINT: json.dumps(resigned).encode()})
    assert verify_bundle(forged)["ok"] is True  # trusted on first use: the bundle alone cannot tell
    _refused(forged, PUBLIC_KEY, "is not the trusted key", trusted=key.public_key())
    # The checkpoint's head changed: its signature no longer verifies.
    _refused(_tampered(bundle, {CHECKPOINT: json.dumps({**checkpoint, "hash": "0" * 64}).encode()}), CHECKPOINT,
             "does not verify")
    _refused(_tampered(bundle, {CHECKPOINT: b"{"}), CHECKPOINT, "not JSON")


# -- password hashes ----------------------------------------------------------------------------------


def _change_password(service, runner, clock) -> None:
    clock.advance(hours=1)
    service.change_password("sara", "a new and longer password", actor=ADMIN)
    runner.catch_up(runner.projections[0])


def test_a_full_bundle_holds_no_password_hash_anywhere_yet_verifies_offline(service, runner, key, clock, tmp_path):
    _change_password(service, runner, clock)
    stored = b"".join(n.state for n in service.recorder.select_notifications(1, 1000))
    assert b"password_hash" in stored and b"$argon2" in stored  # so the search below would find a leak
    path = tmp_path / "export.zip"
    write_bundle(service, runner.reader, path, key, batch_size=5)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            data = z.read(name)
            assert b"password_hash" not in data and b"$argon2" not in data, name
    result = verify_bundle(path, trusted=key.public_key())
    assert result["ok"] is True and result["full"] is True, result
    assert result["events"] == result["length"] == sealed_head(runner.reader).length
    redacted = [json.loads(line) for line in _lines(path, EVENTS) if b'"redacted"' in line]
    assert [e["topic"] for e in redacted] == ["domain.user:User.Registered"] * len(CAST) + \
        ["domain.user:User.PasswordChanged"]
    notifications = {n.id: n for n in service.recorder.select_notifications(1, 1000)}
    for event in redacted:
        assert set(event) == {"position", "originator_id", "version", "topic", "time", "payload_sha256", "redacted"}
        assert event["redacted"] == "password hash"
        _payload, digest, time = read_payload(notifications[event["position"]].state)
        assert (event["payload_sha256"], event["time"]) == (digest, time) and time


def _redacted_edit(change: Callable[[dict], None], index: int = 2):
    def edit(lines):
        event = json.loads(lines[index])
        assert event["redacted"] == "password hash"
        change(event)
        return [*lines[:index], (json.dumps(event) + "\n").encode(), *lines[index + 1:]]
    return edit


@pytest.mark.parametrize("change, problem", [
    (lambda e: e.update(payload_sha256="0" * 64), "does not match its chain entry"),
    (lambda e: e.update(payload_sha256=e["payload_sha256"][::-1]), "does not match its chain entry"),
    (lambda e: e.update(time=e["time"].replace("+00:00", "+01:00")), "does not match its chain entry"),
    (lambda e: e.update(time=""), "does not match its chain entry"),
    (lambda e: e.update(payload_sha256="not a digest"), "not an event line"),
    (lambda e: e.update(state="{}"), "not an event line"),  # both a state and a digest
    (lambda e: [e.pop(name) for name in ("payload_sha256", "time")], "not an event line"),  # neither
    (lambda e: e.pop("time"), "not an event line"),
], ids=["zero-digest", "other-digest", "other-time", "no-time", "bad-digest", "both", "neither", "digest-only"])
def test_a_tampered_redacted_line_is_refused(bundle, change, problem):
    at = "line 3 (position 3)" if "chain entry" in problem else f"{EVENTS} line 3"
    _refused(_tampered(bundle, {EVENTS: _redacted_edit(change)}), at, problem)


def test_a_shown_line_with_a_digest_too_is_refused(bundle):
    def both(lines):
        event = json.loads(lines[EDITED])
        event.update(payload_sha256="0" * 64, time="", redacted="password hash")
        return [*lines[:EDITED], (json.dumps(event, ensure_ascii=False) + "\n").encode(), *lines[EDITED + 1:]]

    _refused(_tampered(bundle, {EVENTS: both}), f"{EVENTS} line {EDITED + 1}", "not an event line")


def test_a_time_range_export_filters_redacted_events_by_their_time(service, runner, key, clock, tmp_path):
    _change_password(service, runner, clock)
    path = tmp_path / "range.zip"
    write_bundle(service, runner.reader, path, key, since=clock.now - timedelta(minutes=1),
                 until=clock.now + timedelta(minutes=1))
    assert verify_bundle(path)["ok"] is True
    [event] = [json.loads(line) for line in _lines(path, EVENTS)]
    assert event["topic"] == "domain.user:User.PasswordChanged" and "state" not in event
    assert datetime.fromisoformat(event["time"]) == clock.now
    # The same bundle claiming another range: the redacted event's time is outside it.
    with zipfile.ZipFile(path) as z:
        checkpoint = json.loads(z.read(CHECKPOINT))
    later = {**checkpoint["export"], "filter": {**checkpoint["export"]["filter"],
                                                "since": (clock.now + timedelta(seconds=1)).isoformat()}}
    resigned = sign_checkpoint(key, checkpoint["position"], checkpoint["hash"], checkpoint["length"], export=later)
    _refused(_tampered(path, {CHECKPOINT: json.dumps(resigned).encode()}), "line 1 (position "
             f"{event['position']})", "outside the exported time range")


# -- subsets ------------------------------------------------------------------------------------------


def test_an_item_export_verifies_and_holds_only_that_items_events(service, runner, key, tmp_path):
    task = service.create_task(ERIK, task_values(title="The one exported")).item
    service.act("tasks", task.id, "start", SARA, {})
    runner.catch_up(runner.projections[0])
    path = tmp_path / "item.zip"
    checkpoint = write_bundle(service, runner.reader, path, key, item=str(task.id))
    assert checkpoint["export"]["filter"] == {"item": str(task.id), "since": None, "until": None}
    result = verify_bundle(path, trusted=key.public_key())
    assert result["ok"] is True and result["full"] is False and result["events"] == 2, result
    events = [json.loads(line) for line in _lines(path, EVENTS)]
    assert {e["originator_id"] for e in events} == {str(task.id)} and [e["version"] for e in events] == [1, 2]
    # The head entry is in this subset (the task's start is the last event): it must be the signed head.
    assert json.loads(_lines(path, CHAIN)[-1])["hash"] == checkpoint["hash"]
    # A line dropped from both files of a subset: the count and the digests are signed.
    _refused(_tampered(path, {EVENTS: lambda lines: lines[1:], CHAIN: lambda lines: lines[1:]}), EVENTS,
             "the checkpoint signs 2")
    _refused(_tampered(path, {EVENTS: lambda lines: _swap(lines, 0, 1), CHAIN: lambda lines: _swap(lines, 0, 1)}),
             f"line 2 (position {events[0]['position']})", "lines were moved")


def test_a_time_range_export_verifies_and_holds_the_events_in_the_range(service, runner, key, clock, tmp_path):
    path = tmp_path / "range.zip"
    since = clock.now - timedelta(days=1, hours=1)  # the last task and the mandate
    write_bundle(service, runner.reader, path, key, since=since, until=clock.now + timedelta(hours=1))
    result = verify_bundle(path)
    assert result["ok"] is True and not result["full"], result
    events = [json.loads(line) for line in _lines(path, EVENTS)]
    assert 0 < len(events) < sealed_head(runner.reader).length
    for event in events:
        at = datetime.fromisoformat(json.loads(event["state"])["timestamp"]["_data_"] if "state" in event
                                    else event["time"])
        assert since <= at < clock.now + timedelta(hours=1)


# -- the command line ---------------------------------------------------------------------------------


def test_the_commands_checkpoint_export_and_verify_and_the_offline_check_needs_no_store(runner, store_env, tmp_path):
    from tests.integration.test_scheduler import database_url

    data = tmp_path / "data"
    env = {**os.environ, "SECRETARIAT_DATABASE_URL": database_url(store_env), "SECRETARIAT_DATA_DIR": str(data)}

    def cli(*args: str, environment=None, cwd=None) -> subprocess.CompletedProcess:
        return subprocess.run([str(SECRETARIAT), "audit", *args], env=environment or env, cwd=cwd or tmp_path,
                              capture_output=True, text=True, timeout=120)

    done = cli("checkpoint")
    assert done.returncode == 0, done.stderr
    checkpoint = json.loads(done.stdout)
    key_file = data / AUDIT_KEY_FILE
    assert (key_file.stat().st_mode & 0o777) == 0o600 and "BEGIN PUBLIC KEY" in done.stderr
    [kept] = (data / "audit-checkpoints").iterdir()
    assert json.loads(kept.read_text()) == checkpoint

    public = cli("public-key")
    assert public.returncode == 0 and "Made" not in public.stderr  # the same key, reused
    (tmp_path / "trusted.pem").write_text(public.stdout)
    assert cli("public-key", "--raw").stdout.strip() == checkpoint["public_key"]

    proven = cli("verify-checkpoint", str(kept))
    assert proven.returncode == 0, proven.stderr
    assert json.loads(proven.stdout)["ok"] is True

    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**checkpoint, "hash": "0" * 64}))
    refused = cli("verify-checkpoint", str(forged))
    assert refused.returncode == 1 and "does not verify" in refused.stderr

    exported = cli("export", str(tmp_path / "all.zip"))
    assert exported.returncode == 0, exported.stderr
    assert cli("export", str(tmp_path / "all.zip")).returncode == 2  # never overwritten

    # Offline: another folder, and settings that name no reachable store.
    offline = {**os.environ, "SECRETARIAT_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nowhere"}
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    checked = cli("verify-export", str(tmp_path / "all.zip"), "--public-key", str(tmp_path / "trusted.pem"),
                  environment=offline, cwd=elsewhere)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["ok"] is True and "full export" in checked.stderr
    assert list(elsewhere.iterdir()) == []

    broken = _tampered(tmp_path / "all.zip", {EVENTS: _edit_state})
    refused = cli("verify-export", str(broken), environment=offline, cwd=elsewhere)
    assert refused.returncode == 1 and "Refused at line 8 (position 8)" in refused.stderr


@pytest.mark.parametrize("command", ["checkpoint", "verify-checkpoint", "public-key", "export", "verify-export"])
def test_every_audit_command_answers_help(command):
    done = subprocess.run([str(SECRETARIAT), "audit", command, "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "Usage" in done.stdout, done.stderr
