"""The route index (api/route_index.py) chooses the route the router itself would, for every route's path."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Match

from api.app import create_api
from api.methods import PROBED
from api.route_index import RouteIndex
from projections.database import engine_for
from projections.queries import ReadModels
from projections.runner import ProjectionRunner

SAMPLES = (str(uuid4()), "tasks", "2026-11-23", "42", "x.y")


@pytest.fixture
def api(service, store_env):
    engine = engine_for(store_env, writer=True)
    app = create_api(service, ReadModels(engine, service.mapper.transcoder), ProjectionRunner(service, engine, []),
                     token_key="k" * 48)
    yield app
    engine.dispose()


def _paths(app) -> set[str]:
    """Every route's path with each parameter filled by each sample, with and without a trailing slash."""
    paths = set()
    for context in iter_route_contexts(app.routes):
        path = context.path
        if not isinstance(path, str):
            continue
        for sample in SAMPLES:
            concrete = re.sub(r"\{[^}]*\}", sample, path) or "/"
            paths |= {concrete, concrete.rstrip("/") + "/", concrete + "/extra"}
    return paths | {"/", "//", "/nothing/here", "/tasks//x"}


def _first_full_match(routes, scope):
    for route in routes:
        if route.matches(dict(scope))[0] is Match.FULL:
            return route
    return None


@pytest.mark.parametrize("store_env", ["sqlite"], indirect=True)
def test_the_index_chooses_the_routers_own_route_for_every_path_and_method(api):
    index = api.router.middleware_stack
    assert isinstance(index, RouteIndex)
    checked = 0
    for path in _paths(api):
        for method in (*PROBED, "HEAD"):
            scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": [],
                     "query_string": b""}
            expected = _first_full_match(api.router.routes, scope)
            assert _first_full_match(index.candidates(scope), scope) is expected, (method, path)
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize("store_env", ["sqlite"], indirect=True)
def test_a_route_added_after_the_first_request_is_found(api):
    index = api.router.middleware_stack
    scope = {"type": "http", "method": "GET", "path": "/late/route", "root_path": "", "headers": [],
             "query_string": b""}
    assert index.candidates(scope) == []

    @api.get("/late/route")
    def late():
        return {}

    assert [route.path for route in index.candidates(scope)] == ["/late/route"]
