"""A route added later is documented with every error it can answer, and linked, without anyone writing it down."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import FastAPI, Header
from pydantic import BaseModel

from api.deps import CurrentActor
from api.openapi import document_every_answer


class NoteCreate(BaseModel):
    text: str


class NotePublic(BaseModel):
    id: str
    text: str


def app_with_new_routes() -> FastAPI:
    app = FastAPI()
    document_every_answer(app)

    @app.post("/notes", status_code=201, response_model=NotePublic)
    def create_note(body: NoteCreate, actor: CurrentActor):
        """Needs a signed-in user, takes a body."""

    @app.post("/notes/{note_id}/edit", response_model=NotePublic)
    def edit_note(note_id: str, body: NoteCreate, actor: CurrentActor,
                  if_match: Annotated[Optional[str], Header(alias="If-Match")] = None):
        """Acts on one note, if it is still at a version."""

    @app.get("/status")
    def status():
        """Open to anyone, takes nothing."""

    return app


def statuses(app: FastAPI, path: str, method: str) -> set[str]:
    return {s for s in app.openapi()["paths"][path][method]["responses"] if s >= "400"}


def test_each_operation_documents_the_statuses_its_inputs_imply() -> None:
    app = app_with_new_routes()
    assert statuses(app, "/notes", "post") == {"400", "401", "403", "409", "413", "415", "422", "429", "503"}
    assert statuses(app, "/notes/{note_id}/edit", "post") == {"400", "401", "403", "404", "409", "412", "413",
                                                             "415", "422", "429", "503"}
    assert statuses(app, "/status", "get") == {"503"}


def test_every_error_is_a_problem_document_and_the_busy_ones_say_when_to_retry() -> None:
    responses = app_with_new_routes().openapi()["paths"]["/notes/{note_id}/edit"]["post"]["responses"]
    assert {r["content"]["application/problem+json"]["schema"]["$ref"] for s, r in responses.items()
            if s >= "400"} == {"#/components/schemas/Problem"}
    assert {s for s, r in responses.items() if "Retry-After" in r.get("headers", {})} == {"429", "503"}
    assert responses["422"]["description"].startswith("A parameter or the body is invalid")


def test_what_a_creation_answers_links_to_the_operations_on_it() -> None:
    created = app_with_new_routes().openapi()["paths"]["/notes"]["post"]["responses"]["201"]
    assert [(link["operationId"], link["parameters"]) for link in created["links"].values()] == [
        ("edit_note_notes__note_id__edit_post", {"note_id": "$response.body#/id"})]
