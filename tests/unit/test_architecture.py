"""The layout is the architecture: the domain depends on nothing of ours but itself."""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTWARD = {"api", "projections", "scheduler", "secretariat", "importing", "audit", "personal_data", "attachments",
           "comments", "report", "fastapi", "starlette", "sqlalchemy", "apscheduler", "uvicorn", "pydantic",
           "pydantic_settings", "httpx", "psycopg", "holidays", "argon2", "jwt", "cryptography"}


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


def test_audit_is_one_package_the_edges_call_into_and_the_inner_layers_never_import():
    """The audit trail is audit/ (DESIGN.md: one folder per capability): the API, the CLI and the composition root
    call into it; the domain, the read models and the scheduler, which it builds on, import none of it."""
    for package in ("domain", "projections", "scheduler"):
        for path in sorted((ROOT / package).rglob("*.py")):
            assert "audit" not in imported_top_level_names(path), path
    leftovers = [p for p in ROOT.glob("*/*.py") if p.parent.name != "audit" and p.parent.name in PACKAGES
                 and re.fullmatch(r"(audit_(chain|log|bundle|export|signing|replay|archive)|chain)\.py", p.name)]
    assert leftovers == []


# -- a workflow is one module plus one registry line ------------------------------------------------

# Where a workflow may be named outside its own module (domain/<name>.py) and domain/registry.py, and why.
# Each entry is (module, what it names); the test fails on any other, and on an entry no longer needed.
NAMED_ON_PURPOSE = {
    # Verbs in the domain's own words for callers that script these workflows (demo, benchmarks, tests):
    # each is one line over `create`, and a new workflow needs none.
    ("domain/application.py", "mandates"): "record_mandate",
    ("domain/application.py", "tasks"): "create_task",
    ("domain/application.py", "support-requests"): "submit_support_request",
    # HTTP names are a contract (API.md): the dashboard's `mandates` list and each progress's `tasks` counts,
    # and the mandate progress route. What they hold derives from the progress link.
    ("projections/queries.py", "mandates"): "the dashboard's PROGRESS_KEY",
    ("projections/queries.py", "tasks"): "progress_summary's `tasks` key",
    ("api/reading.py", "mandates"): "GET /mandates/{item_id}/progress",
    # Not a collection: which of the history's tables a row goes to (view_history_mandates).
    ("projections/history_tables.py", "mandates"): "the history table's key",
    # Lineage is the chain itself: a meeting's conclusions, the mandates and tasks made from them, and
    # those mandates' tasks (issue 11); the routes are HTTP names of that chain.
    ("domain/lineage.py", "Meeting"): "a meeting's conclusions",
    ("domain/lineage.py", "domain.meeting"): "Meeting",
    ("domain/lineage.py", "meetings"): "the chain's top",
    ("domain/lineage.py", "mandates"): "what conclusions become (MADE_FROM_MEETINGS)",
    ("domain/lineage.py", "tasks"): "what conclusions and mandates become (MADE_FROM_MEETINGS)",
    ("api/lineage.py", "meetings"): "GET /meetings/{item_id}/lineage",
    ("api/lineage.py", "mandates"): "a mandate's progress in the tree",
    # Meetings are events in the calendar feed (with dates and a place), beside every item's deadlines.
    ("api/calendar_feed.py", "domain.meeting"): "the meetings' table, for their events",
    # The working-day calculator offers the support request's decision period as its default.
    ("api/calendar.py", "domain.support_request"): "DECISION_WORKING_DAYS",
}
PACKAGES = ("api", "audit", "domain", "importing", "projections", "scheduler", "secretariat")


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def names_of_workflows(path: Path, classes: set[str], collections: set[str], modules: set[str]) -> set[str]:
    """The workflow classes, collections (as a whole string or a path segment) and modules a module names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings, found = _docstrings(tree), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found |= collections & set(re.split(r"[/.?{}]", node.value))
        elif isinstance(node, ast.Name) and node.id in classes:
            found.add(node.id)
        elif isinstance(node, ast.ImportFrom) and node.module in modules:
            found.add(node.module)
            found |= {alias.name for alias in node.names} & classes
    return found


def test_no_module_but_a_workflows_own_and_the_registry_names_a_workflow():
    """Adding a workflow is its module plus its line in domain/registry.py: routes, views, counts, the audit
    log, reminders and pages derive from the registry, so nothing else may name a workflow (but the few above)."""
    from domain.registry import WORKFLOW_ITEMS

    own = {Path(sys.modules[cls.__module__].__file__).resolve() for cls in WORKFLOW_ITEMS}
    classes = {cls.__name__ for cls in WORKFLOW_ITEMS}
    collections = {cls.workflow.collection for cls in WORKFLOW_ITEMS}
    modules = {cls.__module__ for cls in WORKFLOW_ITEMS}
    found = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.resolve() in own or path == ROOT / "domain" / "registry.py":
                continue
            found |= {(str(path.relative_to(ROOT)), name)
                      for name in names_of_workflows(path, classes, collections, modules)}
    assert found - NAMED_ON_PURPOSE.keys() == set(), "derive it from domain/registry.py instead"
    assert NAMED_ON_PURPOSE.keys() - found == set(), "no longer named there: drop it from NAMED_ON_PURPOSE"


def test_every_workflow_module_in_the_domain_is_registered_and_the_registry_lists_only_them():
    from domain.item import WorkflowItem
    from domain.registry import WORKFLOW_ITEMS

    defined = set()
    for path in sorted((ROOT / "domain").glob("*.py")):
        module = importlib.import_module(f"domain.{path.stem}")
        defined |= {value for value in vars(module).values() if isinstance(value, type)
                    and issubclass(value, WorkflowItem) and value is not WorkflowItem and value.__module__ == module.__name__}
    assert defined == set(WORKFLOW_ITEMS)
