"""The interactive API documentation (/docs), served whole by the app so it works offline.

FastAPI's own page loads Swagger UI from a CDN: a Secretariat without Internet access (or a browser that
blocks third parties) would get a blank page. fastapi-offline ships the same files. FastAPI's /redoc is
not served: ReDoc fetches its logo from its vendor's site whatever it is given.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def install_docs(api: FastAPI) -> None:
    """Add /docs (the app must be built with docs_url=None, redoc_url=None)."""
    api.mount(ASSETS, StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    def swagger_ui():
        return get_swagger_ui_html(openapi_url=api.openapi_url, title=f"{api.title} - API documentation",
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon.png")

