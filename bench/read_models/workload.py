"""The workload: fake time, the scripted lives of items, and the commands that carry them out.

`Scenario` makes a seeded, interleaved mix of the demo workflows; `Commands` runs its steps
as `SecretariatApplication`'s commands, one per transaction; `make_backlog` makes more items
by the same aggregates and checks, saved many per transaction. The SQLite cache key hashes
this whole file (stores.cache_key), so any change here makes the cached stores afresh.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable
from uuid import UUID

from domain.actor import PARTIES, Actor
from domain.application import AGGREGATES, SecretariatApplication
from domain.errors import RuleBroken
from domain.mandate import Mandate
from domain.support_request import DECISION_WORKING_DAYS
from tests.factories import ALBA, ERIK, HANA, MILAN, SARA

BACKLOG_ITEMS_PER_SAVE = 500
START = datetime(2025, 1, 6, 8, 0, tzinfo=timezone.utc)


class Clock:
    """Fake time: each command moves it on by a few minutes, so a history spans months."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, rng: random.Random) -> None:
        self.now += timedelta(seconds=rng.randint(30, 330))

    def today(self) -> date:
        return self.now.date()


@dataclass
class Step:
    actor: Actor
    action: str  # "create" for the creating step
    values: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


@dataclass
class Script:
    """One item's life: its creating step, then its actions, taken one per command."""

    collection: str
    fate: str
    steps: list[Step]
    item_id: UUID | None = None
    done: int = 0
    links: bool = False  # a task that serves a mandate (only tasks that end done or cancelled do)
    postponed: int = 0


RESULT = "A catalogue of the bilateral and multilateral agreements between the Contracting Parties."
TASK_FATES = {  # fate: weight; the steps are spelled out in Scenario._task
    "done": 45, "done after a block": 8, "done after rescheduling": 8, "done after a return": 6,
    "done after reassignment": 3, "cancelled": 10, "open": 10, "in progress": 5, "blocked": 3, "in review": 2,
}
REQUEST_FATES = {
    "closed": 25, "closed after a question": 8, "delivered": 7, "in delivery": 5, "approved": 5,
    "rejected as duplicate": 7, "rejected as operational": 5, "withdrawn": 10, "withdrawn in screening": 5,
    "submitted": 10, "screening": 8, "needs info": 5,
}
MANDATE_FATES = {"fulfilled": 70, "withdrawn": 15, "reported": 10, "in progress": 5}


class Scenario:
    """A seeded, interleaved mix of the demo workflows' commands.

    About `in_flight` items are alive at once and each command advances a random one (or
    creates a new item when one finished), so consecutive events belong to different
    items, as they would with many people working. Mandates move slowly and a few are
    active at a time; tasks link to an active mandate, and the head fulfils a mandate
    once none of its linked tasks is open. The actor of each step is one the workflow
    table allows: tasks by erik (ewg) or sara (secretariat), started and submitted by their
    assignee, approved by erik or hana (head); support requests by alba (AL) or milan (RS)
    or by sara for another Party, screened by sara, decided by hana.
    """

    def __init__(self, seed: int, clock: Clock, tag: str, *, in_flight: int = 200, mandates: int = 8,
                 mandate_step_probability: float = 0.003) -> None:
        self.rng = random.Random(seed)
        self.clock = clock
        self.tag = tag  # keeps mandate references unique across scenarios in one store
        self.in_flight = in_flight
        self.mandate_target = mandates
        self.mandate_step_probability = mandate_step_probability
        self.live: list[Script] = []  # tasks and requests in flight
        self.live_mandates: list[Script] = []
        self.mandate_state: dict[str, str] = {}
        self.open_links: dict[str, set[UUID]] = {}  # mandate id -> its linked tasks still open
        self.task_mandate: dict[UUID, str] = {}
        self.states: dict[UUID, tuple[str, str]] = {}  # every item this scenario made -> (collection, state)
        self.made = 0
        self.skipped = Counter()  # steps refused by a rule and left out (should stay rare)

    # -- choosing the next command ------------------------------------------------

    def next(self) -> tuple[Script, Step]:
        rng = self.rng
        while True:
            if self.live_mandates and rng.random() < self.mandate_step_probability:
                script = rng.choice(self.live_mandates)
                step = script.steps[script.done]
                if step.action == "fulfil" and self.open_links.get(str(script.item_id)):
                    script.postponed += 1  # linked tasks still open: the head waits
                    continue
                return script, step
            if len(self.live) < self.in_flight or len(self.live_mandates) < self.mandate_target:
                script = self.new_script()
                return script, script.steps[0]
            script = self.live[rng.randrange(len(self.live))]
            return script, script.steps[script.done]

    def new_script(self, *, backlog: bool = False) -> Script:
        rng = self.rng
        self.made += 1
        if len(self.live_mandates) < self.mandate_target and not backlog:
            script = self._mandate()
            self.live_mandates.append(script)
            return script
        if backlog and rng.random() < 0.003:  # about the share of mandates among the history's items
            return self._mandate()
        script = self._task(backlog) if rng.random() < 0.7 else self._request()
        if not backlog:
            self.live.append(script)
        return script

    def done(self, script: Script, item: Any) -> None:
        """Book the step just taken (`item` is the item after it)."""
        self.clock.tick(self.rng)
        step = script.steps[script.done]
        if step.action == "create":
            script.item_id = item.id
            if script.collection == "tasks" and script.links:
                self.open_links.setdefault(item.fields["mandate_id"], set()).add(item.id)
                self.task_mandate[item.id] = item.fields["mandate_id"]
        self.states[item.id] = (script.collection, item.state)
        if script.collection == "mandates":
            self.mandate_state[str(item.id)] = item.state
        if script.collection == "tasks" and item.state in ("done", "cancelled") and item.id in self.task_mandate:
            self.open_links[self.task_mandate.pop(item.id)].discard(item.id)
        script.done += 1
        if script.done == len(script.steps):
            self._retire(script)

    def skip(self, script: Script, why: str) -> None:
        """A rule refused the step (e.g. the mandate a task was to serve closed meanwhile): leave it out."""
        self.skipped[why] += 1
        step = script.steps[script.done]
        if step.action == "create":
            self._retire(script)
            return
        script.done += 1
        if script.done == len(script.steps):
            self._retire(script)

    def _retire(self, script: Script) -> None:
        pool = self.live_mandates if script.collection == "mandates" else self.live
        if script in pool:
            pool.remove(script)

    def expected_counts(self) -> Counter:
        return Counter(self.states.values())

    # -- the lives of items ---------------------------------------------------------

    def _due(self, low: int, high: int) -> date:
        return self.clock.today() + timedelta(days=self.rng.randint(low, high))

    def _mandate(self) -> Script:
        rng = self.rng
        fate = _pick(rng, MANDATE_FATES)
        reference = f"CoM-{self.tag}-{self.made:06d}/1"
        values = {"reference": reference, "title": f"Decision {reference}", "decided_on": self.clock.today(),
                  "assigned_to": rng.choice(["secretariat", "secretariat", "ewg"]),
                  "meeting": "Committee of Ministers", "text": "The Committee of Ministers decides " * 8}
        if rng.random() < 0.5:
            values["report_due"] = self._due(90, 365)
        steps = [Step(rng.choice([SARA, HANA]), "create", values)]
        if rng.random() < 0.1:
            steps.append(Step(SARA, "set_report_due", {"report_due": self._due(120, 400)}, "The CoM moved the date"))
        if fate == "withdrawn" and rng.random() < 0.3:
            return Script("mandates", fate, steps + [Step(HANA, "withdraw", {}, "Superseded by a later decision")])
        steps.append(Step(rng.choice([SARA, ERIK, HANA]), "start"))
        if fate == "withdrawn":
            steps.append(Step(HANA, "withdraw", {}, "Superseded by a later decision"))
        elif fate in ("fulfilled", "reported"):
            steps.append(Step(SARA, "report", {"summary": "Carried out as decided; details in the annex."}))
            if fate == "fulfilled":
                steps.append(Step(HANA, "fulfil"))
        return Script("mandates", fate, steps)

    def _task(self, backlog: bool) -> Script:
        rng = self.rng
        fate = _pick(rng, TASK_FATES)
        assignee = _pick(rng, {SARA: 55, ERIK: 30, HANA: 15})
        values: dict[str, Any] = {"title": f"Task {self.made}: prepare the documents", "assignee": assignee.username,
                                  "due": self._due(-5, 90)}
        if rng.random() < 0.3:
            values["description"] = "Collect the Parties' contributions and draft the summary. " * 3
        if rng.random() < 0.1:
            values["partners"] = ["SELEC", "Europol"]
        links = False
        if not backlog and (fate.startswith("done") or fate == "cancelled") and rng.random() < 0.6:
            active = [m for m, s in self.mandate_state.items() if s in ("adopted", "in_progress")]
            if active:
                values["mandate_id"] = rng.choice(active)
                links = True
        steps = [Step(rng.choice([ERIK, SARA]), "create", values)]
        reviewer = HANA if assignee is ERIK else rng.choice([ERIK, HANA])

        def work(until: str) -> list[Step]:
            out = [Step(assignee, "start")]
            if until == "in progress":
                return out
            if until == "blocked" or fate == "done after a block":
                out.append(Step(assignee, "block", {}, "Waiting for the Parties' nominations"))
                if until == "blocked":
                    return out
                out.append(Step(assignee, "unblock"))
            out.append(Step(assignee, "submit", {"result": RESULT}))
            if until == "in review":
                return out
            if fate == "done after a return":
                out += [Step(reviewer, "return", {}, "Please add the 2025 agreements"),
                        Step(assignee, "submit", {"result": RESULT + " Now with 2025."})]
            return out + [Step(reviewer, "approve")]

        if fate in ("open",):
            pass
        elif fate in ("in progress", "blocked", "in review"):
            steps += work(fate)
        elif fate == "cancelled":
            if rng.random() < 0.5:
                steps.append(Step(assignee, "start"))
            steps.append(Step(rng.choice([ERIK, HANA]), "cancel", {}, "No longer needed"))
        else:
            if fate == "done after rescheduling":
                steps.append(Step(rng.choice([ERIK, SARA]), "reschedule", {"due": self._due(20, 120)},
                                  "The meeting moved"))
            if fate == "done after reassignment":
                other = SARA if assignee is not SARA else ERIK
                steps.append(Step(rng.choice([ERIK, SARA]), "assign", {"assignee": other.username}))
                assignee = other
                reviewer = HANA if assignee is ERIK else rng.choice([ERIK, HANA])
            steps += work("done")
        return Script("tasks", fate, steps, links=links)

    def _request(self) -> Script:
        rng = self.rng
        fate = _pick(rng, REQUEST_FATES)
        submitter = _pick(rng, {ALBA: 40, MILAN: 40, SARA: 20})
        party = submitter.party or rng.choice([p for p in PARTIES if p not in ("AL", "RS")])
        answerer = submitter if submitter.party else SARA  # provide_info and withdraw: own_party or staff
        operational = fate == "rejected as operational"
        kind = "financial" if rng.random() < 0.6 else "logistical"
        values: dict[str, Any] = {
            "party": party, "kind": kind, "operational_involvement": operational,
            "activity": "investigation" if operational else rng.choice(
                ["operation_planning", "officer_exchange", "mass_event", "other"]),
            "description": f"Support for a joint activity of {party} with its neighbours. " * 2}
        if kind == "financial":
            values["amount_eur"] = Decimal(rng.randint(1, 60) * 500)
        if rng.random() < 0.7:
            values["needed_by"] = self._due(15, 120)
        steps = [Step(submitter, "create", values)]
        screen = Step(SARA, "start_screening")
        no_duplicate = Step(SARA, "record_duplication_check", {"duplicates_found": False,
                                                               "notes": "No other support found."})
        delivery = [Step(HANA, "approve"), Step(SARA, "start_delivery"),
                    Step(SARA, "complete_delivery", {"report": "Delivered as planned; receipts attached."}),
                    Step(SARA, "close")]
        question = [Step(SARA, "request_info", {}, "Which Parties take part?"),
                    Step(answerer, "provide_info", {"info": "Three neighbouring Parties."})]
        lives = {
            "closed": [screen, no_duplicate, *delivery],
            "closed after a question": [screen, *question, no_duplicate, *delivery],
            "delivered": [screen, no_duplicate, *delivery[:3]],
            "in delivery": [screen, no_duplicate, *delivery[:2]],
            "approved": [screen, no_duplicate, *delivery[:1]],
            "rejected as duplicate": [screen, Step(SARA, "record_duplication_check", {
                "duplicates_found": True, "notes": "SELEC already supports this."}),
                Step(HANA, "reject", {}, "Would duplicate other efforts in the region")],
            "rejected as operational": [screen, Step(HANA, "reject", {}, "No operational involvement at any time")],
            "withdrawn": [Step(answerer, "withdraw", {}, "Solved bilaterally")],
            "withdrawn in screening": [screen, Step(answerer, "withdraw", {}, "Solved bilaterally")],
            "submitted": [],
            "screening": [screen],
            "needs info": [screen, question[0]],
        }
        return Script("support-requests", fate, steps + lives[fate])


def _pick(rng: random.Random, weights: dict) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Commands:
    """Carries a scenario's steps out as the application's commands: one command, one transaction."""

    def __init__(self, service: SecretariatApplication, scenario: Scenario) -> None:
        self.service, self.scenario = service, scenario

    def step(self) -> int | None:
        """One command; returns the log position of its last event (None if a rule refused it)."""
        script, step = self.scenario.next()
        try:
            if step.action == "create":
                outcome = self.service.create(script.collection, step.actor, step.values)
            else:
                outcome = self.service.act(script.collection, script.item_id, step.action, step.actor, step.values,
                                           reason=step.reason)
        except RuleBroken as refused:
            self.scenario.skip(script, f"{script.collection} {step.action}: {str(refused)[:60]}")
            return None
        self.scenario.done(script, outcome.item)
        return outcome.position


def make_backlog(service: SecretariatApplication, scenario: Scenario, items: int,
                 progress: Callable[[int], None]) -> None:
    """`items` more items, by the same aggregates and checks as the commands, saved many per transaction.

    Each item gets its whole life (half of them) or a random beginning of it (the other half),
    so the backlog holds every state. Backlog tasks serve no mandate; a support request's
    decision date is derived as `submit_support_request` derives it.
    """
    rng, clock = scenario.rng, scenario.clock
    pending: list[Any] = []
    for n in range(items):
        script = scenario.new_script(backlog=True)
        cut = len(script.steps) if rng.random() < 0.5 else rng.randint(1, len(script.steps))
        cls = AGGREGATES[script.collection]
        first = script.steps[0]
        derived = None
        if script.collection == "support-requests":
            today = clock().astimezone(service.tz).date()
            derived = {"decision_due": service.calendar.add_working_days(today, DECISION_WORKING_DAYS)}
        item_id = Mandate.id_for(first.values["reference"]) if script.collection == "mandates" else None
        item = cls.start_new(first.actor, first.values, now=clock(), derived=derived, item_id=item_id)
        for step in script.steps[1:cut]:
            clock.tick(rng)
            item.act(step.action, step.actor, step.values, now=clock(), reason=step.reason)
        clock.tick(rng)
        scenario.states[item.id] = (script.collection, item.state)
        pending.append(item)
        if len(pending) == BACKLOG_ITEMS_PER_SAVE or n == items - 1:
            service.save(*pending)
            progress(len(pending))
            pending = []
