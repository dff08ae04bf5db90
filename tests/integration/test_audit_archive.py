"""The pages' audit downloads on each real store: the checkpoint and bundle the CLI would make, signed with the
key beside the data (made on first use), and words instead of a file when nothing is sealed yet."""

from __future__ import annotations

from typing import Iterator

import pytest

from audit.archive import ArchiveUnavailable, StoreAuditArchive
from audit.bundle_check import verify_bundle
from audit.seal import AuditChainProjection
from audit.signing import AUDIT_KEY_FILE, checkpoint_problem, load_key
from audit.store import sealed_head
from projections.database import engine_for
from projections.runner import ProjectionRunner
from tests.factories import ERIK, register_cast, task_values


@pytest.fixture
def runner(service, store_env) -> Iterator[ProjectionRunner]:
    register_cast(service)
    service.create_task(ERIK, task_values())
    runner = ProjectionRunner(service, engine_for(store_env, writer=True), [AuditChainProjection()],
                              reader=engine_for(store_env))
    runner.setup()
    yield runner
    runner.engine.dispose()
    runner.reader.dispose()


def test_nothing_sealed_yet_is_said_in_words_and_writes_no_file(service, runner, tmp_path):
    archive = StoreAuditArchive(service, runner.reader, tmp_path / AUDIT_KEY_FILE)
    with pytest.raises(ArchiveUnavailable, match="nothing is sealed yet"):
        archive.checkpoint()
    with pytest.raises(ArchiveUnavailable, match="no bundle was written: nothing is sealed yet"):
        archive.export(tmp_path / "bundle.zip", progress=lambda _n: None)
    assert not (tmp_path / "bundle.zip").exists()


def test_the_checkpoint_and_the_bundle_are_the_sealed_head_signed_by_the_key_beside_the_data(service, runner,
                                                                                             tmp_path):
    runner.catch_up(runner.projections[0])
    archive = StoreAuditArchive(service, runner.reader, tmp_path / AUDIT_KEY_FILE)
    checkpoint = archive.checkpoint()
    head = sealed_head(runner.reader)
    assert (checkpoint["position"], checkpoint["hash"], checkpoint["length"]) == (head.position, head.hash,
                                                                                head.length)
    trusted = load_key(tmp_path / AUDIT_KEY_FILE).public_key()  # made on first use, then kept
    assert checkpoint_problem(checkpoint, trusted) is None

    archive.export(tmp_path / "bundle.zip", progress=lambda _n: None)
    checked = verify_bundle(tmp_path / "bundle.zip", trusted)
    assert checked["ok"] and checked["full"] and checked["events"] == head.length
