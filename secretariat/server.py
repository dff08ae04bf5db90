"""The ASGI application built from settings, as uvicorn workers import it."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from api.app import create_api
from secretariat.bootstrap import build_application
from secretariat.settings import Settings


def api_from_settings(settings: Settings | None = None) -> FastAPI:
    """Each uvicorn worker calls this once (`factory=True`): one application service per process."""
    settings = settings or Settings()
    service = build_application(settings)
    return create_api(service, token_key=settings.token_key(),
                      token_ttl=timedelta(minutes=settings.token_ttl_minutes))
