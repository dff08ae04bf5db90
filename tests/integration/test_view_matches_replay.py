"""A random walk through every workflow, projected in batches of random sizes: the view equals the replay.

Every action the workflow tables offer is taken by whoever the table allows, with values
made from the field definitions, in a seeded order that interleaves items. Whatever the
batch boundaries, each item's row must restore to what replaying its events gives, and the
counters must equal what the replayed items add up to.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.actor import PARTIES, Actor
from domain.application import AGGREGATES
from domain.errors import DomainError
from domain.workflow import Action, Workflow
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.queries import ReadModels
from projections.runner import ProjectionRunner
from tests.factories import AUDREY, CAST, register_cast

READER = AUDREY  # reads every collection


def value_for(name: str, kind: type, choices: tuple[str, ...], rng: random.Random, actor: Actor,
              made: dict[str, list]) -> Any:
    if name == "party":
        return actor.party or rng.choice(PARTIES)
    if name == "assignee":
        return rng.choice(["sara", "erik", "hana"])
    if name == "mandate_id":
        return str(rng.choice(made["mandates"])) if made["mandates"] and rng.random() < 0.7 else None
    if name in ("meeting_id", "conclusion"):
        return None  # a link to a meeting's conclusion (tests/e2e/test_meetings.py): here it would only be refused
    if name == "reference":
        return f"CoM-walk/{len(made['mandates']) + 1}-{rng.randrange(10**9)}"
    if choices:
        return rng.choice(choices)
    if kind is date:
        return date(2026, 11, 1) + timedelta(days=rng.randint(-60, 120))
    if kind is Decimal:
        return Decimal(rng.choice(["0", "1500", "12000.50"]))
    if kind is bool:
        return rng.random() < 0.3
    if kind is int:
        return rng.randint(0, 20)
    if kind is list:
        return ["Interpol", "SELEC"][: rng.randint(0, 2)]
    return f"{name} {rng.randrange(1000)}"


def values_for(workflow: Workflow, action: Action, rng: random.Random, actor: Actor, made: dict[str, list]) -> dict:
    fields = {f.name: f for f in workflow.fields}
    names = [*action.requires, *(n for n in action.accepts if fields[n].required or rng.random() < 0.5)]
    return {n: value_for(n, fields[n].type, fields[n].choices, rng, actor, made) for n in names}


def walk(service, clock, rng: random.Random, steps: int, between=lambda: None) -> dict[str, list]:
    made: dict[str, list] = {c: [] for c in AGGREGATES}
    for step in range(steps):
        clock.advance(minutes=rng.randint(1, 600))
        collection = rng.choice(list(AGGREGATES))
        workflow = AGGREGATES[collection].workflow
        try:
            if not made[collection] or rng.random() < 0.2:
                actor = rng.choice([a for a in CAST if any(a.has_role(g) or g == "own_party" and a.party
                                                           for g in workflow.creating_action.who)])
                outcome = service.create(collection, actor, values_for(workflow, workflow.creating_action, rng,
                                                                       actor, made))
                made[collection].append(outcome.item.id)
            else:
                item_id = rng.choice(made[collection])
                item = service.get_item(collection, item_id, READER)
                offers = [(a, name) for a in CAST for name in item.allowed_actions(a)]
                # Ending actions (withdraw, cancel, ...) only now and then, so items live long enough
                # to go through the other states.
                going_on = [(a, n) for a, n in offers if workflow.action(n).target not in workflow.terminal]
                if not offers:
                    continue
                actor, name = rng.choice(going_on if going_on and rng.random() < 0.85 else offers)
                action = workflow.action(name)
                reason = "Recorded in the walk" if action.reason_required or rng.random() < 0.2 else None
                service.act(collection, item_id, name, actor, values_for(workflow, action, rng, actor, made),
                            reason=reason)
        except DomainError:
            pass  # a rule refused it (e.g. no amount on a financial request): nothing was recorded
        if step % 37 == 0:
            between()
    return made


@pytest.mark.parametrize("seed", [1, 2])
def test_after_a_random_walk_the_view_restores_every_item_as_replay_does(service, clock, store_env, seed):
    register_cast(service)
    rng = random.Random(seed)
    runner = ProjectionRunner(service, engine_for(store_env, writer=True),
                              [ItemsProjection(service.mapper.transcoder)])
    runner.setup()
    projection = runner.projections[0]

    def project_some():  # batches of varying size, some of them mid-walk
        runner.batch_size = rng.choice([1, 4, 9, 50])
        runner.run_batch(projection)

    made = walk(service, clock, rng, 600, between=project_some)
    runner.batch_size = rng.choice([3, 17, 1000])
    runner.catch_up(projection)
    read_models = ReadModels(engine_for(store_env), service.mapper.transcoder)
    try:
        states: Counter[tuple[str, str]] = Counter()
        tasks_of: dict[str, Counter[str]] = {}
        for collection, ids in made.items():
            listed, total = read_models.list_items(collection, READER, {}, limit=1000)
            assert total == len(ids)
            for viewed in listed:
                replayed = service.get_item(collection, viewed.id, READER)
                assert (viewed.state, viewed.version, viewed.fields, viewed.deadlines()) == (
                    replayed.state, replayed.version, replayed.fields, replayed.deadlines())
                assert (viewed.created_on, viewed.modified_on) == (replayed.created_on, replayed.modified_on)
                assert all(viewed.allowed_actions(a) == replayed.allowed_actions(a) for a in CAST)
                states[(collection, replayed.state)] += 1
                if collection == "tasks" and replayed.fields.get("mandate_id"):
                    tasks_of.setdefault(replayed.fields["mandate_id"], Counter())[replayed.state] += 1
        counts = read_models.counts()
        assert {(c, s): n for c, by_state in counts.items() for s, n in by_state.items() if n} == dict(states)
        assert read_models.mandate_progress(list(tasks_of)) == {m: dict(c) for m, c in tasks_of.items()}
        assert sum(states.values()) >= 50 and len(states) >= 12  # the walk went somewhere
    finally:
        read_models.engine.dispose()
        runner.engine.dispose()
