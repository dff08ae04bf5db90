"""Fixtures the integration tests share."""

from __future__ import annotations

import pytest

from projections.database import engine_for
from projections.items import ItemsProjection
from projections.queries import ReadModels
from projections.runner import ProjectionRunner
from tests.conftest import make_service
from tests.factories import register_cast


@pytest.fixture
def read_models(service, store_env):
    """The read models over the test's store, as the API reads them (a reader engine)."""
    models = ReadModels(engine_for(store_env), service.mapper.transcoder)
    yield models
    models.engine.dispose()


@pytest.fixture
def items_runner(service, store_env):
    """The items view's projection runner over the test's store, set up; small batches, so a rebuild spans several."""
    runner = ProjectionRunner(service, engine_for(store_env, writer=True),
                              [ItemsProjection(service.mapper.transcoder)], batch_size=5, rebuild_batch_size=4)
    runner.setup()
    yield runner
    runner.engine.dispose()


@pytest.fixture
def two_applications(store_env, hasher, clock):
    """Two applications on the test's store, each with its own caches, as two server processes have them (two
    workers of `serve --workers 2`, or `serve` and the CLI); the cast is registered through the first."""
    first, second = make_service(store_env, hasher, clock), make_service(store_env, hasher, clock)
    register_cast(first)
    yield first, second
    first.close()
    second.close()
