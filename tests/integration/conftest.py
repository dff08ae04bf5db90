"""Fixtures the integration tests share."""

from __future__ import annotations

import pytest

from projections.database import engine_for
from projections.items import ItemsProjection
from projections.queries import ReadModels
from projections.runner import ProjectionRunner


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
