"""A cheaper deep copy of an aggregate, for the copy the library makes on every load from its cache.

The repository keeps aggregates in a per-process cache and hands out a `copy.deepcopy` of one on every
load, so that a command that fails half-way cannot spoil the cached one. `copy.deepcopy` rebuilds every
datetime, date and UUID in it through `__reduce_ex__`, which was a fifth of a command's own time. Those
values cannot change, so the copy here shares them and copies only the containers (dicts and lists, with
shared references kept shared, as `copy.deepcopy` keeps them); anything else goes to `copy.deepcopy`.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

# Types whose values never change (so a copy may be the value itself), exactly these, not subclasses.
_IMMUTABLE = frozenset({str, int, float, bool, complex, bytes, type(None), datetime, date, time, timedelta,
                        timezone, UUID, Decimal})


def deep_copy(value: Any, memo: dict[int, Any]) -> Any:
    """`copy.deepcopy(value, memo)`, sharing the immutable values instead of rebuilding them."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        copied = memo.get(id(value))
        if copied is None:
            copied = memo[id(value)] = {}
            for key, item in value.items():
                copied[deep_copy(key, memo)] = deep_copy(item, memo)
        return copied
    if kind is list:
        copied = memo.get(id(value))
        if copied is None:
            copied = memo[id(value)] = []
            copied.extend(deep_copy(item, memo) for item in value)
        return copied
    return copy.deepcopy(value, memo)


class CheapDeepCopy:
    """Mixin for an aggregate class: `copy.deepcopy` of one copies its attributes by `deep_copy`."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        copied = object.__new__(type(self))
        memo[id(self)] = copied
        attributes = copied.__dict__
        for name, value in self.__dict__.items():
            attributes[name] = deep_copy(value, memo)
        return copied
