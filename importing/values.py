"""A history's values as the domain takes them: JSON and CSV carry text and numbers, the fields want dates,
decimals, booleans and lists (the API's pydantic edge does the same for live commands)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from domain.workflow import Workflow

TRUE, FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


class BadValue(ValueError):
    """A value that cannot be read as its field's type; the message names the field."""


def typed_values(workflow: Workflow, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values with each known field's value read as its type; unknown fields are left for the domain to refuse."""
    return {name: _typed(workflow.field_by_name[name].type, name, value) if name in workflow.field_by_name
            and value is not None else value for name, value in values.items()}


def _typed(kind: type, name: str, value: Any) -> Any:
    try:
        if kind is date and isinstance(value, str):
            return date.fromisoformat(value.strip())
        if kind is Decimal and isinstance(value, (int, float, str)) and not isinstance(value, bool):
            return Decimal(str(value).strip())
        if kind is int and isinstance(value, str):
            return int(value.strip())
        if kind is bool and isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE | FALSE:
                return word in TRUE
            raise ValueError(value)
        if kind is list and isinstance(value, str):  # a CSV cell: items separated by ';'
            return [part.strip() for part in value.split(";") if part.strip()]
    except (ValueError, InvalidOperation):
        raise BadValue(f"{name}: {value!r} is not a {_kind_name(kind)}") from None
    return value


def _kind_name(kind: type) -> str:
    return {date: "date (YYYY-MM-DD)", Decimal: "number", int: "whole number", bool: "boolean (true/false)",
            list: "list"}.get(kind, kind.__name__)
