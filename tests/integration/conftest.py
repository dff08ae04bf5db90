"""Fixtures the integration tests share."""

from __future__ import annotations

import pytest

from projections.database import engine_for
from projections.queries import ReadModels


@pytest.fixture
def read_models(service, store_env):
    """The read models over the test's store, as the API reads them (a reader engine)."""
    models = ReadModels(engine_for(store_env), service.mapper.transcoder)
    yield models
    models.engine.dispose()
