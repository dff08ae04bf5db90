"""The audit signing key (owner-only, made once) and signed checkpoints; the offline check imports no store."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from audit.signing import (AUDIT_KEY_FILE, KeyProblem, checkpoint_problem, load_or_create_key, public_pem,
                                       public_raw, read_public_key, sign_checkpoint)

HEAD = "ab" * 32


def test_the_key_is_made_owner_only_once_and_reused(tmp_path):
    path = tmp_path / "data" / AUDIT_KEY_FILE
    key, made = load_or_create_key(path)
    assert made and (path.stat().st_mode & 0o777) == 0o600
    again, made_again = load_or_create_key(path)
    assert not made_again and public_raw(again) == public_raw(key)
    assert [p.name for p in path.parent.iterdir()] == [AUDIT_KEY_FILE]  # no temporary file left behind


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_file_others_may_read_is_refused(tmp_path, mode):
    path = tmp_path / AUDIT_KEY_FILE
    load_or_create_key(path)
    os.chmod(path, mode)
    with pytest.raises(KeyProblem, match="chmod 600"):
        load_or_create_key(path)


def test_a_key_file_that_holds_no_key_is_refused(tmp_path):
    path = tmp_path / AUDIT_KEY_FILE
    path.write_text("not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KeyProblem, match="no readable private key"):
        load_or_create_key(path)


def test_the_public_key_reads_back_as_pem_or_raw_base64(tmp_path):
    key, _ = load_or_create_key(tmp_path / AUDIT_KEY_FILE)
    assert public_pem(key).startswith("-----BEGIN PUBLIC KEY-----")
    assert len(base64.b64decode(public_raw(key))) == 32
    for text in (public_pem(key), public_raw(key)):
        assert public_raw(read_public_key(text.encode())) == public_raw(key)
    with pytest.raises(KeyProblem):
        read_public_key(b"c2hvcnQ=")


def test_a_checkpoint_verifies_and_any_change_to_it_is_refused(tmp_path):
    key, _ = load_or_create_key(tmp_path / AUDIT_KEY_FILE)
    other, _ = load_or_create_key(tmp_path / "other.key")
    checkpoint = sign_checkpoint(key, 120, HEAD, 118)
    assert checkpoint_problem(checkpoint, key.public_key()) is None
    assert checkpoint_problem(checkpoint) is None  # by the key it names
    for name, value in (("hash", "cd" * 32), ("position", 121), ("length", 119), ("time", "2030-01-01T00:00:00+00:00")):
        assert "does not verify" in checkpoint_problem({**checkpoint, name: value}, key.public_key())
    flipped = bytearray(base64.b64decode(checkpoint["signature"]))
    flipped[0] ^= 1
    assert "does not verify" in checkpoint_problem({**checkpoint, "signature": base64.b64encode(flipped).decode()})
    # Signed again by another key: it verifies by the key it names, never by the trusted one.
    forged = sign_checkpoint(other, 120, "cd" * 32, 118)
    assert checkpoint_problem(forged) is None
    assert "not by the trusted key" in checkpoint_problem(forged, key.public_key())
    # The named key swapped for the trusted one: the signature no longer verifies.
    assert "does not verify" in checkpoint_problem({**forged, "public_key": public_raw(key)}, key.public_key())
    assert "format" in checkpoint_problem({**checkpoint, "format": "x"})
    assert "'length'" in checkpoint_problem({k: v for k, v in checkpoint.items() if k != "length"})


def test_the_offline_check_imports_neither_the_application_nor_a_database_driver():
    program = ("import sys, audit.bundle_check; "
               "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'eventsourcing', 'domain', "
               "'api', 'scheduler', 'psycopg', 'sqlite3', 'pydantic_settings'} or m in {'secretariat.settings', "
               "'secretariat.bootstrap', 'audit.seal', 'audit.store', 'projections.runner'}); print(bad)")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
