"""The HTTP API (FastAPI): routes derived from the workflow tables, and the web dashboard."""
