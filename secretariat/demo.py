"""Demo users and data drawn from the Secretariat's founding texts. Safe to run twice.

Every demo item has a fixed id, so a second run finds it and leaves it as it is.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable
from uuid import NAMESPACE_URL, UUID, uuid5

from rich.console import Console
from rich.progress import track

from domain.actor import PARTIES, Actor
from domain.application import SecretariatApplication
from domain.closures import CLOSURES_ID
from domain.errors import Conflict, NotFound
from domain.mandate import Mandate

USERS = [  # username (= password), roles, party, e-mail
    ("admin", ["admin"], None),
    ("sara", ["secretariat"], None),
    ("hana", ["head"], None),
    ("erik", ["ewg"], None),
    ("alba", ["party"], "AL"),
    ("milan", ["party"], "RS"),
    ("audrey", ["auditor"], None),
]

ESTABLISHMENT = "CoM-2008-07-17/1"
HOST_MOU = "CoM-2010-05-21/1"
SUPPORT = "CoM-2015-05-05/1"

# (key, user, values, then the actions: (user, action, values, reason)). Mandates and tasks below name the
# conclusion they were made from as (meeting key, conclusion number); `starts_in` is days from today.
ALL_PARTIES = list(PARTIES)


def _held(user: str, conclusions: list[tuple[str, bool]], minutes: str) -> list[tuple]:
    """A meeting that took place: convened, its conclusions recorded in order, concluded, minutes recorded."""
    return [(user, "convene", {}, None),
            *[(user, "record_conclusion", {"conclusion_text": text, "tasks_someone": tasks}, None)
              for text, tasks in conclusions],
            (user, "conclude", {}, None), ("sara", "record_minutes", {"minutes": minutes}, None)]


MEETINGS: list[tuple[str, str, dict[str, Any], list[tuple]]] = [
    ("com-2008-vienna", "sara", dict(body="com", title="Committee of Ministers meeting", place="Vienna",
                                     starts_on=date(2008, 7, 17), ends_on=date(2008, 7, 17),
                                     participants=ALL_PARTIES),
     _held("sara", [("The Committee of Ministers establishes the Secretariat of the Police Cooperation Convention "
                     "for Southeast Europe, under its political guidance and the supervision of the Expert Working "
                     "Group.", True)], "The Committee decided to establish the Secretariat.")),
    ("ewg-2009-ljubljana", "erik", dict(body="ewg", title="Expert Working Group meeting", place="Ljubljana",
                                        starts_on=date(2009, 10, 14), ends_on=date(2009, 10, 15),
                                        participants=ALL_PARTIES),
     _held("erik", [("The Secretariat catalogues the bilateral and multilateral agreements among the Contracting "
                     "Parties.", True),
                    ("The draft Memorandum of Understanding with the host country goes to the Committee.", False)],
           "The Expert Working Group reviewed the Secretariat's first year.")),
    ("com-2010-sofia", "sara", dict(body="com", title="Committee of Ministers meeting", number="3rd",
                                    place="Sofia", starts_on=date(2010, 5, 21), ends_on=date(2010, 5, 21),
                                    participants=ALL_PARTIES),
     _held("sara", [("The Memorandum of Understanding on hosting the Secretariat in the Republic of Slovenia is "
                     "signed.", True)], "The Committee signed the Memorandum of Understanding.")),
    ("partner-2011-belgrade", "sara", dict(body="partner", title="Annual Coordination Conference", number="4th",
                                           place="Belgrade", starts_on=date(2011, 12, 2), ends_on=date(2011, 12, 2),
                                           participants=["RS", "BA", "ME", "MK", "AL"]),
     _held("sara", [("The partners tell each other of their planned activities, so that efforts in the region are "
                     "not duplicated.", False)], "The Secretariat presented the Convention's activities.")),
    ("ewg-2014-ljubljana", "erik", dict(body="ewg", title="Expert Working Group meeting", place="Ljubljana",
                                        starts_on=date(2014, 11, 20), ends_on=date(2014, 11, 21),
                                        participants=ALL_PARTIES),
     _held("erik", [("The Expert Working Group proposes to the Committee a decision on the Secretariat's support to "
                     "the Contracting Parties.", False)], "The Expert Working Group agreed the draft decision.")),
    ("com-2015-decision", "sara", dict(body="com", title="Committee of Ministers decision on support to the "
                                       "Contracting Parties", starts_on=date(2015, 5, 5), ends_on=date(2015, 5, 5),
                                       participants=ALL_PARTIES),
     _held("sara", [("The Secretariat supports the Contracting Parties, financially and logistically, on request, "
                     "in planning, coordinating and carrying out operations; it shall have no operational "
                     "involvement at any time, and its support shall not duplicate other efforts.", True),
                    ("The Secretariat reports on its support every year.", True)],
           "The Committee adopted the decision on support to the Contracting Parties.")),
    ("com-next", "sara", dict(body="com", title="Committee of Ministers meeting", place="Ljubljana", starts_in=60,
                              participants=ALL_PARTIES, agenda=["Report of the Secretariat", "Support given to "
                                                                 "the Contracting Parties", "Work programme"]),
     []),
]

# (reference, values, then the actions: (user, action, values, reason))
MANDATES: list[tuple[str, dict[str, Any], list[tuple]]] = [
    (ESTABLISHMENT, dict(
        title="Establish the PCC SEE Secretariat",
        text="The Committee of Ministers establishes the Secretariat of the Police Cooperation Convention for "
             "Southeast Europe, to work under its political guidance and the supervision of the Expert Working "
             "Group, reporting to the Committee directly or through the Expert Working Group.",
        decided_on=date(2008, 7, 17), meeting="Committee of Ministers, Vienna", assigned_to="secretariat",
        made_from=("com-2008-vienna", 1)),
     [("sara", "start", {}, None), ("sara", "report", {"summary": "The Secretariat is established in Ljubljana "
       "and staffed; its rules of procedure are adopted."}, None), ("hana", "fulfil", {}, None)]),
    (HOST_MOU, dict(
        title="Memorandum of Understanding with the host country",
        text="The Memorandum of Understanding between the Contracting Parties and the Republic of Slovenia on "
             "hosting the Secretariat is signed.",
        decided_on=date(2010, 5, 21), meeting="Committee of Ministers, Sofia", assigned_to="secretariat",
        made_from=("com-2010-sofia", 1)),
     [("sara", "start", {}, None), ("sara", "report", {"summary": "The Memorandum is in force; the Secretariat "
       "operates from its seat in Ljubljana."}, None)]),
    (SUPPORT, dict(
        title="Support Contracting Parties in planning, coordinating and carrying out operations",
        text="The Secretariat supports the Contracting Parties, financially and logistically, on request, in "
             "planning, coordinating and carrying out operations: exchange of officers, investigations and mass "
             "events. Support must not duplicate other efforts in the region, and the Secretariat shall have no "
             "operational involvement at any time.",
        decided_on=date(2015, 5, 5), meeting="Committee of Ministers", assigned_to="secretariat",
        made_from=("com-2015-decision", 1)),
     [("erik", "start", {}, None)]),
]

# (key, user, values, actions); `mandate` names a reference above, `due` is days from today.
TASKS: list[tuple[str, str, dict[str, Any], list[tuple]]] = [
    ("activities", "erik", dict(title="Catalogue the Convention's activities", assignee="sara", due=30,
                                mandate=SUPPORT), [("sara", "start", {}, None)]),
    ("agreements", "erik", dict(title="Catalogue bilateral and multilateral agreements", assignee="sara", due=-3,
                                partners=["SELEC", "Europol"], made_from=("ewg-2009-ljubljana", 1)),
     [("sara", "start", {}, None)]),
    ("com-meeting", "sara", dict(title="Prepare the next Committee of Ministers meeting", assignee="sara", due=45),
     []),
    ("ewg-meeting", "sara", dict(title="Prepare the Expert Working Group meeting", assignee="erik", due=12,
                                 mandate=SUPPORT),
     [("erik", "start", {}, None), ("erik", "submit", {"result": "Agenda and documents circulated."}, None)]),
    ("experts", "erik", dict(title="Keep the list of experts", assignee="sara", due=60), [
        ("sara", "start", {}, None),
        ("sara", "block", {}, "Waiting for nominations from three Contracting Parties")]),
    ("annual-report", "erik", dict(title="Annual report to the Committee of Ministers", assignee="sara", due=90,
                                   mandate=SUPPORT, made_from=("com-2015-decision", 2)), []),
    ("website", "sara", dict(title="Keep the public informed: website and newsletter", assignee="sara", due=20),
     [("sara", "start", {}, None), ("sara", "submit", {"result": "Website updated with the 2026 activities."},
                                    None), ("erik", "approve", {}, None)]),
]

REQUESTS: list[tuple[str, str, dict[str, Any], list[tuple]]] = [
    ("al-exchange", "alba", dict(party="AL", kind="financial", activity="officer_exchange", amount_eur="12000",
                                 description="Exchange of four officers with the Montenegrin border police.",
                                 needed_by=40), []),
    ("rs-mass-event", "milan", dict(party="RS", kind="logistical", activity="mass_event", needed_by=25,
                                    description="Coordination meeting before a regional football tournament."),
     [("sara", "start_screening", {}, None),
      ("sara", "record_duplication_check", {"duplicates_found": False, "notes": "No other support found."},
       None)]),
    ("al-investigation", "alba", dict(party="AL", kind="logistical", activity="investigation",
                                      operational_involvement=True,
                                      description="Secretariat staff to join a joint investigation team."),
     [("sara", "start_screening", {}, None),
      ("hana", "reject", {}, "The Secretariat shall have no operational involvement at any time.")]),
    ("rs-planning", "milan", dict(party="RS", kind="financial", activity="operation_planning", amount_eur="8500",
                                  description="Planning workshop for a cross-border operation.", needed_by=15),
     [("sara", "start_screening", {}, None), ("sara", "request_info", {}, "Which Parties take part?"),
      ("milan", "provide_info", {"info": "Serbia, Bosnia and Herzegovina and Montenegro."}, None),
      ("sara", "record_duplication_check", {"duplicates_found": False}, None), ("hana", "approve", {}, None),
      ("sara", "start_delivery", {}, None)]),
]


DEMO = Actor.system("demo", "admin")
END_OF_YEAR_CLOSURE = "End-of-year closure"


def demo_id(kind: str, key: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"secretariat:demo:{kind}:{key}")


def seed(service: SecretariatApplication, console: Console | None = None) -> int:
    """Create what is missing of the demo; return how many records were created."""
    created = 0
    for username, roles, party in track(USERS, description="Demo users", console=console,
                                        disable=console is None):
        try:
            service.register_user(username, username, roles, party=party, email=f"{username}@pccsee.example",
                                  actor=DEMO)
            created += 1
        except Conflict:
            pass
    actors = {name: service.user(name).as_actor() for name, _, _ in USERS}
    today = service.clock().astimezone(service.tz).date()
    created += record_end_of_year_closure(service, today.year, today.year + 1)

    for key, user, values, actions in MEETINGS:
        item_id = demo_id("meeting", key)
        if not _exists(service, "meetings", item_id, actors["audrey"]):
            if "starts_in" in values:
                values = dict(values)
                values["starts_on"] = values["ends_on"] = today + timedelta(days=values.pop("starts_in"))
            service.create("meetings", actors[user], values, item_id=item_id)
            _play(service, "meetings", item_id, actions, actors)
            created += 1
    for reference, values, actions in MANDATES:
        if not _exists(service, "mandates", Mandate.id_for(reference), actors["audrey"]):
            item = service.record_mandate(actors["sara"], {"reference": reference, **_made_from(values)}).item
            _play(service, "mandates", item.id, actions, actors)
            created += 1
    for key, user, values, actions in TASKS:
        item_id = demo_id("task", key)
        if not _exists(service, "tasks", item_id, actors["audrey"]):
            values = dict(_made_from(values), due=today + timedelta(days=values["due"]))
            if "mandate" in values:
                values["mandate_id"] = str(Mandate.id_for(values.pop("mandate")))
            service.create_task(actors[user], values, item_id=item_id)
            _play(service, "tasks", item_id, actions, actors)
            created += 1
    for key, user, values, actions in REQUESTS:
        item_id = demo_id("request", key)
        if not _exists(service, "support-requests", item_id, actors["audrey"]):
            values = dict(values, operational_involvement=values.get("operational_involvement", False))
            if "needed_by" in values:
                values["needed_by"] = today + timedelta(days=values["needed_by"])
            if "amount_eur" in values:
                values["amount_eur"] = Decimal(values["amount_eur"])
            service.submit_support_request(actors[user], values, item_id=item_id)
            _play(service, "support-requests", item_id, actions, actors)
            created += 1
    return created


def _made_from(values: dict[str, Any]) -> dict[str, Any]:
    """The values with `made_from` (meeting key, conclusion) as the meeting's id and the conclusion's number."""
    values = dict(values)
    if "made_from" in values:
        key, conclusion = values.pop("made_from")
        values.update(meeting_id=str(demo_id("meeting", key)), conclusion=conclusion)
    return values


def record_end_of_year_closure(service: SecretariatApplication, *years: int) -> int:
    """Close 24-31 December of each year, except days already off (so a second run closes none)."""
    # Nor a day someone has closed or reopened before: the demo never overrides a recorded decision.
    decided = {getattr(event, "day", None) for event in service.events.get(CLOSURES_ID)}
    closed = 0
    for year in years:
        for day in (date(year, 12, d) for d in range(24, 32)):
            if day not in decided and service.business_calendar().is_working_day(day):
                service.close_day(day, END_OF_YEAR_CLOSURE, actor=DEMO)
                closed += 1
    return closed


def _exists(service: SecretariatApplication, collection: str, item_id: UUID, reader: Actor) -> bool:
    try:
        service.get_item(collection, item_id, reader)
        return True
    except NotFound:
        return False


def _play(service: SecretariatApplication, collection: str, item_id: UUID, actions: Iterable[tuple],
          actors: dict[str, Actor]) -> None:
    for user, action, values, reason in actions:
        service.act(collection, item_id, action, actors[user], values, reason=reason)
