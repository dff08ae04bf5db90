"""The copy the repository makes of a cached aggregate (domain/cheap_copy.py) is as deep as `copy.deepcopy`'s.

Every aggregate of every scene of the fixture's writer (items with reminders and attachments, users with
encrypted personal data, closures, idempotency records) copies to an equal aggregate that shares no dict or
list with it, and a value referenced twice stays one value in the copy.
"""

from __future__ import annotations

import copy
from typing import Any, Iterator

from domain.application import SecretariatApplication
from domain.calendar import BusinessCalendar
from domain.cheap_copy import CheapDeepCopy
from personal_data.cipher import EncryptedPersonalData
from personal_data.keys import MemoryPersonalKeys
from tests.fixtures.write_stored_events import SCENES, START, Scene
from tests.integration.test_stored_json import typed


def containers(value: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Every dict, list and set inside a value, attributes of objects included."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, (dict, list, set)):
        yield value
    items = (value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple, set))
             else vars(value).items() if hasattr(value, "__dict__") else ())
    for _key, item in items:
        yield from containers(item, seen)


def test_every_aggregate_copies_to_an_equal_one_sharing_no_container(hasher):
    clock = [START]
    keys = MemoryPersonalKeys()
    app = SecretariatApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, hasher=hasher, clock=lambda: clock[0],
                                 calendar=BusinessCalendar(), personal_keys=keys,
                                 personal_data=EncryptedPersonalData(keys))
    for scene in SCENES.values():
        scene(Scene(app, clock))
    ids = dict.fromkeys(n.originator_id for n in app.recorder.select_notifications(1, 10_000))
    kinds = set()
    for oid in ids:
        aggregate = app.repository.get(oid, deepcopy_from_cache=False)
        assert isinstance(aggregate, CheapDeepCopy)
        kinds.add(type(aggregate).__name__)
        copied = copy.deepcopy(aggregate)
        assert type(copied) is type(aggregate) and copied is not aggregate
        assert typed(vars(copied)) == typed(vars(aggregate)), oid
        assert not {id(c) for c in containers(copied)} & {id(c) for c in containers(aggregate)}, oid
    assert {"User", "Closures", "IdempotencyRecord", "Task", "Mandate", "SupportRequest", "Meeting"} <= kinds


class Holder(CheapDeepCopy):
    pass


def test_a_value_referenced_twice_is_one_value_in_the_copy_and_odd_values_copy_as_deepcopy_copies_them():
    shared = {"a": [1, 2]}
    holder = Holder()
    holder.first, holder.second, holder.loop = shared, [shared, shared["a"]], []
    holder.loop.append(holder.loop)
    holder.odd = ({"in a tuple": []}, {1, 2}, frozenset({"x"}), bytearray(b"b"))
    copied = copy.deepcopy(holder)
    assert copied.first is copied.second[0] and copied.second[1] is copied.first["a"]
    assert copied.first is not shared and copied.loop[0] is copied.loop and copied.loop is not holder.loop
    assert copied.odd == holder.odd and copied.odd[0]["in a tuple"] is not holder.odd[0]["in a tuple"]
    assert copied.odd[3] is not holder.odd[3]
