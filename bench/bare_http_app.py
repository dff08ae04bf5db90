"""The floor the benchmark compares Secretariat with: the task workflow with nothing but the library
(and, from the product, only its date transcoding, `domain.application.DateAsISO`).

`BareTask` and `BareApplication` are a plain `eventsourcing` aggregate and application
doing the same four commands as Secretariat's task workflow (create, start, submit,
approve), each one load-act-save, with no checks, no users, no idempotency and no
snapshots. `app` is a bare FastAPI app over them on the library's SQLite store: no
auth, no views, no checks. bench/commands.py uses the classes in process and serves
`app` with uvicorn:

    BARE_SQLITE_DBNAME=/tmp/bare.db uvicorn --app-dir bench bare_http_app:app \
        --loop uvloop --http httptools --workers 1

The event payload matches Secretariat's (title, assignee, a `date` due, a result), so
the comparison measures Secretariat's own overhead, not a difference in data.

`BareApplicationWithOrjson` is the same floor storing its events as Secretariat does, with
the orjson codec and the resolved-topics mapper (domain/stored_json.py): the same bytes,
written and read faster. The benchmark reports ours against both. `app` uses it only when
`BARE_STORED_JSON=orjson` is set; by default it keeps the library's transcoder.
"""

import os
from datetime import date
from typing import Any, Mapping, Optional
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder
from pydantic import BaseModel

# The one thing the floor takes from the product: its date transcoding, so that both store
# the `due` date as the same "date_iso" JSON and the comparison is not skewed by encoding;
# and, for the second floor only, the product's stored JSON codec (see the module's text).
# domain/ imports only the standard library, eventsourcing, orjson and domain/.
from domain.application import DateAsISO
from domain.stored_json import OrjsonStoredJSON


class BareTask(Aggregate):
    @event("Created")
    def __init__(self, title: str, assignee: str, due: date) -> None:
        self.title = title
        self.assignee = assignee
        self.due = due
        self.result: Optional[str] = None
        self.state = "open"

    @event("Started")
    def start(self) -> None:
        self.state = "in_progress"

    @event("Submitted")
    def submit(self, result: str) -> None:
        self.result = result
        self.state = "in_review"

    @event("Approved")
    def approve(self) -> None:
        self.state = "done"


class BareApplication(Application[UUID]):
    name = "bare"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def create_task(self, title: str, assignee: str, due: date) -> BareTask:
        task = BareTask(title, assignee, due)
        self.save(task)
        return task

    def act(self, task_id: UUID, action: str, **values: Any) -> BareTask:
        task: BareTask = self.repository.get(task_id)
        getattr(task, action)(**values)
        self.save(task)
        return task


class BareApplicationWithOrjson(OrjsonStoredJSON, BareApplication):
    """The floor with Secretariat's stored JSON codec and mapper (the same bytes as the library's)."""


class TaskIn(BaseModel):
    title: str
    assignee: str
    due: date


class ResultIn(BaseModel):
    result: str


def _document(task: BareTask) -> dict[str, Any]:
    return {"id": str(task.id), "version": task.version, "state": task.state}


def create_app(env: Mapping[str, str]) -> Any:
    from fastapi import FastAPI

    with_orjson = os.environ.get("BARE_STORED_JSON") == "orjson"
    service = (BareApplicationWithOrjson if with_orjson else BareApplication)(env)
    api = FastAPI(title="bare")

    # Plain `def` routes, like Secretariat's: they run in the thread pool.
    @api.post("/tasks", status_code=201)
    def create(body: TaskIn) -> dict[str, Any]:
        return _document(service.create_task(body.title, body.assignee, body.due))

    @api.post("/tasks/{task_id}/start")
    def start(task_id: UUID) -> dict[str, Any]:
        return _document(service.act(task_id, "start"))

    @api.post("/tasks/{task_id}/submit")
    def submit(task_id: UUID, body: ResultIn) -> dict[str, Any]:
        return _document(service.act(task_id, "submit", result=body.result))

    @api.post("/tasks/{task_id}/approve")
    def approve(task_id: UUID) -> dict[str, Any]:
        return _document(service.act(task_id, "approve"))

    @api.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "head": service.recorder.max_notification_id()}

    return api


if os.environ.get("BARE_SQLITE_DBNAME"):
    app = create_app({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": os.environ["BARE_SQLITE_DBNAME"]})
