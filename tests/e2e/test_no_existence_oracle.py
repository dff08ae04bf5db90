"""An id the caller may not know answers exactly as a random one, on every route that takes one (issue 10, 3-6).

The routes are read from the application itself (`api_from_settings`, as `serve` builds it), so
a route added with an item, reminder or delivery id is compared as soon as it exists, and one
with a path parameter this module cannot fill in fails it. For each, a Party liaison (Albania)
and the EWG send the same requests with the id of an item they may not read (a Serbian request,
a mandate, a task, their reminders and deliveries) and with a random id; the answers must be
equal in status, headers (but `date` and request ids) and body, once each id is blanked out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Iterator
from uuid import uuid4

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from domain.actor import Actor
from domain.application import WORKFLOWS
from domain.reminders import reminder_id
from domain.workflow import Action, Workflow
from scheduler.outbox import CHANNELS, delivery_id
from secretariat.server import api_from_settings
from secretariat.settings import Settings
from tests.e2e.conftest import Server, create, in_days, mandate_body, request_body, task_body, unique
from tests.e2e.test_reminders import INBOX_WAIT_SECONDS, inbox_reminders_for
from tests.factories import ALBA, ERIK

IGNORED_HEADERS = {"date", "x-request-id", "request-id"}  # differ between any two answers, whatever they say
ID_PARAMETER = re.compile(r"(\w+_)?id")
CALLERS = {"alba": ALBA, "erik": ERIK}  # a Party liaison of another Party than the items', and the EWG
UNKNOWN_ACTION = "no_such_action"
ATTACHED = b"%PDF-1.7\nMinutes of the oracle's meeting\n"


# -- the routes, from the application ------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the template, e.g. /ui/{collection}/{item_id}/{action_name}
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class Inventory:
    by_id: list[Route]  # every route with an id in its path
    id_filters: list[tuple[str, str]]  # (path, query parameter) of GET routes filtering by an id


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Inventory]:
    folder = tmp_path_factory.mktemp("routes")
    api = api_from_settings(Settings(database_url=f"sqlite:///{folder}/routes.db", secret_key="k" * 48,
                                     data_dir=folder), follow=False)
    try:
        by_id = []
        for route in iter_route_contexts(api.routes):
            parameters = tuple(re.findall(r"{(\w+)[^}]*}", route.path or ""))
            if any(ID_PARAMETER.fullmatch(p) for p in parameters):
                by_id += [Route(method, route.path, parameters) for method in sorted(route.methods or ())
                          if method != "HEAD"]
        id_filters = [(path, p["name"]) for path, operations in api.openapi()["paths"].items() if "{" not in path
                      for method, operation in operations.items() if method == "get"
                      for p in operation.get("parameters", ()) if p["in"] == "query"
                      and (ID_PARAMETER.fullmatch(p["name"]) or p["name"] == "party")]
        yield Inventory(by_id, id_filters)
    finally:
        api.state.service.close()


def test_the_inventory_finds_the_routes_of_the_issue_and_knows_how_to_fill_in_each(inventory):
    paths = {(r.method, r.path) for r in inventory.by_id}
    assert {("GET", "/support-requests/{item_id}"), ("GET", "/support-requests/{item_id}/history"),
            ("POST", "/support-requests/{item_id}/approve"), ("GET", "/ui/{collection}/{item_id}"),
            ("POST", "/reminders/{reminder_id}/acknowledge"), ("GET", "/mandates/{item_id}/progress"),
            ("GET", "/meetings/{item_id}/lineage"), ("GET", "/tasks/{item_id}/lineage"),
            ("GET", "/ui/{collection}/{item_id}/lineage"), ("POST", "/support-requests/{item_id}/comments"),
            ("GET", "/support-requests/{item_id}/comments"), ("POST", "/ui/{collection}/{item_id}/comments"),
            ("POST", "/support-requests/{item_id}/attachments"), ("GET", "/support-requests/{item_id}/attachments"),
            ("GET", "/support-requests/{item_id}/attachments/{sha256}"),
            ("POST", "/ui/{collection}/{item_id}/attachments"),
            ("GET", "/ui/{collection}/{item_id}/attachments/{sha256}"), ("GET", "/meetings/{item_id}/report"),
            ("GET", "/ui/{collection}/{item_id}/report")} <= paths
    unknown = [(r.method, r.path, p) for r in inventory.by_id for p in r.parameters if p not in FILLERS]
    assert not unknown, ("routes with path parameters this test cannot fill in: teach FILLERS what an id the "
                         f"caller may not know is for them: {unknown}")
    assert {("/audit/events", "item_id"), ("/tasks", "mandate_id"), ("/support-requests", "party")} <= set(
        inventory.id_filters)


# -- what the callers may not know -------------------------------------------------------------------------

@dataclass
class World:
    """Items (and their reminders) of which some callers may know nothing, as the staff see them."""

    items: dict[str, dict[str, Any]]  # collection -> item document
    reminders: dict[str, str] = field(default_factory=dict)  # reminder id -> collection of its item
    attachment: str = ""  # the SHA-256 of a file attached to every item

    def hidden_item(self, collection: str, actor: Actor) -> dict[str, Any] | None:
        item = self.items[collection]
        return None if WORKFLOWS[collection].may_read(actor, item) else item

    def hidden_reminders(self, actor: Actor) -> list[str]:
        """Raised reminders on items the actor may not read, and ids computed the same way for other versions."""
        found = []
        for rid, collection in self.reminders.items():
            item = self.hidden_item(collection, actor)
            if item is not None:
                found += [rid, str(reminder_id(item["id"], 1))]
        return found


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    sara, three_days_ago = server.client("sara"), in_days(-3)
    serbian = create(server.client("milan"), "support-requests", request_body(party="RS", needed_by=in_days(2)))
    serbian = _acted(sara, "support-requests", serbian["id"], "start_screening")
    mandate = create(sara, "mandates", mandate_body())
    task = create(server.client("erik"), "tasks", task_body(title=unique("Hidden task "), due=three_days_ago,
                                                            mandate_id=mandate["id"]))
    # A meeting Albania takes no part in, its documents overdue (so it has a reminder).
    meeting = create(sara, "meetings", {"body": "com", "title": unique("Hidden meeting "), "participants": ["RS"],
                                        "starts_on": three_days_ago, "ends_on": three_days_ago,
                                        "documents_due_days": 0})
    world = World({"support-requests": serbian, "mandates": mandate, "tasks": task, "meetings": meeting})
    for collection, item in world.items.items():
        attached = sara.post(f"/{collection}/{item['id']}/attachments", files={"file": ("minutes.pdf", ATTACHED)})
        assert attached.status_code == 201, attached.text
        world.attachment = attached.json()["sha256"]
    for item in world.items.values():  # raised by the served scheduler, addressed to the secretariat or sara
        if item is not mandate:
            reminder = _first_reminder(sara, item["id"])
            world.reminders[reminder["id"]] = reminder["collection"]
    # Then held, with a conclusion a mandate was made from: its lineage has something to tell. The served
    # scheduler may be writing a reminder on the meeting at the same moment: then convening is tried again.
    for _attempt in range(5):
        if sara.post(f"/meetings/{meeting['id']}/convene").status_code != 409:
            break
    assert sara.get(f"/meetings/{meeting['id']}").json()["state"] == "convened"
    _acted(sara, "meetings", meeting["id"], "record_conclusion", {"conclusion_text": "Act"})
    create(sara, "mandates", mandate_body(meeting_id=meeting["id"], conclusion=1))
    world.items["meetings"] = sara.get(f"/meetings/{meeting['id']}").json()
    return world


def _acted(client: httpx.Client, collection: str, item_id: str, action: str,
           body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(f"/{collection}/{item_id}/{action}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _first_reminder(client: httpx.Client, item_id: str) -> dict[str, Any]:
    found = inbox_reminders_for(client, item_id, INBOX_WAIT_SECONDS)
    assert found, f"no reminder was raised on {item_id} within {INBOX_WAIT_SECONDS} s"
    return found[0]


# -- each route made concrete: its collection, a hidden id, its action -------------------------------------

@dataclass(frozen=True)
class Case:
    method: str
    path: str  # with "{ID}" where the id goes
    hidden_id: str
    created_at: str | None  # the hidden item's, for as_of around it
    action: tuple[Workflow, Action] | None  # the workflow action the route takes, for a body


def _cases(route: Route, actor: Actor, world: World) -> Iterator[Case]:
    collections = [c for c in WORKFLOWS if route.path.startswith((f"/{c}/", f"/ui/{c}/"))]
    for collection in (WORKFLOWS if "collection" in route.parameters else collections or [None]):
        path = route.path.replace("{collection}", collection or "")
        workflow = WORKFLOWS.get(collection)
        for hidden_id, created_at in _hidden_ids(route, actor, world, collection):
            for action_name in _action_names(route, workflow, path):
                action = workflow.by_name.get(action_name) if workflow else None
                concrete = re.sub(r"{(action|action_name)}", action_name, path)
                concrete = re.sub(r"{(?:\w+_)?id}", "{ID}", concrete).replace("{sha256}", world.attachment)
                yield Case(route.method, concrete, hidden_id, created_at, (workflow, action) if action else None)


def _hidden_ids(route: Route, actor: Actor, world: World, collection: str | None) -> list[tuple[str, str | None]]:
    if "item_id" in route.parameters:
        item = world.hidden_item(collection, actor) if collection else None
        return [(item["id"], item["created_at"])] if item else []
    if "reminder_id" in route.parameters:
        return [(rid, None) for rid in world.hidden_reminders(actor)]
    if "delivery_id" in route.parameters:
        return [(delivery_id(rid, channel), None) for rid in world.hidden_reminders(actor) for channel in CHANNELS]
    raise AssertionError(f"{route.path}: no filler for its id")  # caught earlier by the inventory test


def _action_names(route: Route, workflow: Workflow | None, path: str) -> list[str]:
    if "action_name" in route.parameters or "action" in route.parameters:
        return [a.name for a in workflow.actions] + [UNKNOWN_ACTION]
    last = path.rsplit("/", 1)[-1]
    return [last if workflow and last in workflow.by_name else ""]


FILLERS = {"item_id", "reminder_id", "delivery_id", "collection", "action", "action_name", "sha256"}


# -- the requests sent, with each id ------------------------------------------------------------------------

def _variants(case: Case) -> list[dict[str, Any]]:
    if case.method == "GET":
        return [{"params": params} for params in _queries(case.created_at)]
    upload = {"files": {"file": ("agenda.pdf", b"%PDF-1.7\nAnother agenda\n", "application/pdf")}}
    comment = {"text": "@sara @erik did the oracle see this?"}  # a comment whose mentions would notify
    if case.path.startswith("/ui/"):
        return [{"data": {}}, {"data": {k: _as_form(v) for k, v in _body(case).items()}},
                *([upload] if case.path.endswith("/attachments") else []),
                *([{"data": comment}] if case.path.endswith("/comments") else [])]
    if case.path.endswith("/attachments"):
        return [{}, {"json": {}}, upload, {**upload, "files": {"file": ("tool.exe", b"MZ\x90\x00")}}]
    if case.path.endswith("/comments"):
        return [{}, {"json": {}}, {"json": comment}, {"json": {"text": ""}}, {"json": {"text": "x" * 10_001}}]
    body = _body(case)
    return [{}, {"json": {}}, {"json": body},
            {"json": body, "headers": {"If-Match": '"1"', "Idempotency-Key": unique("oracle-")}}]


def _queries(created_at: str | None) -> list[dict[str, Any]]:
    created = datetime.fromisoformat(created_at) if created_at else datetime.now().astimezone()
    instants = [created - timedelta(days=3650), created - timedelta(seconds=1), created - timedelta(microseconds=1),
                created, created + timedelta(microseconds=1), created + timedelta(seconds=1),
                datetime.now().astimezone(), created + timedelta(days=3650)]
    return ([{}, {"version": 1}, {"version": 2}, {"version": 99}, {"version": 2**31 - 1}, {"version": 2**31},
             {"version": 1, "as_of": created.isoformat()}, {"done": "approve"}]
            + [{"as_of": instant.isoformat()} for instant in instants])


def _body(case: Case) -> dict[str, Any]:
    """A body the action would accept (its required fields and a reason), or a reason alone."""
    if case.action is None:
        return {"reason": "Sent by the oracle test"}
    workflow, action = case.action
    values = {name: _value(workflow, name) for name in action.requires}
    return {**values, "reason": "Sent by the oracle test"}


def _value(workflow: Workflow, name: str) -> Any:
    spec = workflow.field_by_name[name]
    if spec.choices:
        return spec.choices[0]
    if spec.type is date:
        return in_days(30)
    return {bool: False, int: 1, Decimal: 1000, list: ["UNODC"]}.get(spec.type, "From the oracle test")


def _as_form(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else ", ".join(value) if isinstance(value, list) \
        else str(value)


def _answer(response: httpx.Response, the_id: str) -> tuple[int, list[tuple[str, str]], str]:
    headers = [(k, v.replace(the_id, "{ID}")) for k, v in response.headers.multi_items() if k not in IGNORED_HEADERS]
    return response.status_code, headers, response.text.replace(the_id, "{ID}")


def _page_client(server: Server, username: str) -> httpx.Client:
    """A browser's view: signed in through the sign-in form, with its cookie."""
    client = httpx.Client(base_url=server.base_url, timeout=30, follow_redirects=False)
    signed_in = client.post("/login", data={"username": username, "password": username, "next": "/"})
    assert signed_in.status_code == 303 and client.cookies, signed_in.text
    return client


# -- the comparison -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("username", sorted(CALLERS))
def test_every_route_answers_an_id_the_caller_may_not_know_exactly_as_a_random_one(server, inventory, world,
                                                                                   username):
    actor, api, pages = CALLERS[username], server.client(username), _page_client(server, username)
    for item in world.items.values():  # they exist: the staff read them
        assert server.client("sara").get(f"/{_collection_of(world, item)}/{item['id']}").status_code == 200
    compared, differences = set(), []
    try:
        for route in inventory.by_id:
            for case in _cases(route, actor, world):
                client = pages if case.path.startswith("/ui/") else api
                for variant in _variants(case):
                    random_id = str(uuid4())
                    hidden = client.request(case.method, case.path.replace("{ID}", case.hidden_id), **variant)
                    absent = client.request(case.method, case.path.replace("{ID}", random_id), **variant)
                    compared.add((route.method, route.path))
                    if _answer(hidden, case.hidden_id) != _answer(absent, random_id):
                        differences.append(f"{case.method} {case.path} {variant}:\n  hidden {hidden.status_code} "
                                           f"{hidden.text[:300]}\n  random {absent.status_code} {absent.text[:300]}")
    finally:
        pages.close()
    assert not differences, f"{len(differences)} answers tell a hidden id from a random one:\n" + "\n".join(
        differences[:20])
    # Every route with an id was compared, but those of collections whose every item the caller reads.
    hidden = [c for c in WORKFLOWS if world.hidden_item(c, actor)]
    assert compared == {(r.method, r.path) for r in inventory.by_id
                        if not r.path.startswith(tuple(f"/{c}/" for c in WORKFLOWS if c not in hidden))}


@pytest.mark.parametrize("username", sorted(CALLERS))
def test_list_filters_naming_what_the_caller_may_not_know_answer_as_for_what_does_not_exist(server, inventory,
                                                                                            world, username):
    actor, client = CALLERS[username], server.client(username)
    hidden_ids = [item["id"] for c, item in world.items.items() if world.hidden_item(c, actor)]
    for path, parameter in inventory.id_filters:
        # Another Party's code against one that has no request (the EWG and a liaison may list neither).
        pairs = [("RS", "SI")] if parameter == "party" else [(hidden, str(uuid4())) for hidden in hidden_ids]
        for hidden, absent in pairs:
            answers = [client.get(path, params={parameter: value}) for value in (hidden, absent)]
            assert _answer(answers[0], hidden) == _answer(answers[1], absent), (path, parameter, answers[0].text)


def _collection_of(world: World, item: dict[str, Any]) -> str:
    return next(c for c, i in world.items.items() if i is item)


def test_a_hidden_request_still_answers_its_own_party_and_the_staff(server, world):
    """The comparison above is about ids that exist: here the same ids, read by those who may."""
    serbian = world.items["support-requests"]
    url = f"/support-requests/{serbian['id']}"
    for user in ("milan", "sara", "hana", "audrey"):
        assert server.client(user).get(url).status_code == 200
    version = server.client("milan").get(url, params={"version": 2**31})
    assert version.status_code == 404 and f"has no version {2**31}" in version.json()["detail"]
    before = datetime.fromisoformat(serbian["created_at"]) - timedelta(microseconds=1)
    assert "did not exist at" in server.client("milan").get(url, params={"as_of": before.isoformat()}).text
