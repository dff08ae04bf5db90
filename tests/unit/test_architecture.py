"""The layout is the architecture: the domain depends on nothing of ours but itself."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTWARD = {"api", "projections", "scheduler", "secretariat", "fastapi", "starlette", "sqlalchemy", "apscheduler",
           "uvicorn", "pydantic", "pydantic_settings", "httpx", "psycopg", "holidays", "argon2", "jwt"}


def imported_top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_domain_imports_none_of_the_other_packages_nor_any_framework():
    modules = sorted((ROOT / "domain").glob("*.py"))
    assert len(modules) >= 8
    offending = {p.name: imported_top_level_names(p) & OUTWARD for p in modules}
    assert {name: found for name, found in offending.items() if found} == {}


def test_the_api_reads_no_storage_directly():
    for path in (ROOT / "api").glob("*.py"):
        assert not imported_top_level_names(path) & {"sqlalchemy", "psycopg", "sqlite3"}, path.name
