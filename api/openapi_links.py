"""OpenAPI links: which answer supplies the identifier another operation's path needs.

A generated client (and schemathesis' stateful phase) follows them: the task `POST /tasks`
created can be started, its history read, and so on. They are derived from the paths and the
response schemas, so a new route is linked without anyone writing it down:

- an operation links to every operation under the same collection (the path up to its first
  parameter: `/tasks/` for `/tasks`, `/tasks/{item_id}` and `/tasks/{item_id}/start`);
- each of the target's path parameters is filled from the source's own path parameter of that
  name, else from the answer's field of that name (`username`, `day`), else, for `<x>_id`, from
  its `id`; in a list answer, from its first element (`/items/0/id`).
"""

from __future__ import annotations

import re
from typing import Any

_PARAMETER = re.compile(r"\{([^}]+)\}")


def add_links(document: dict[str, Any]) -> None:
    """Add `links` to each success answer whose fields, or whose request's path, identify other operations."""
    schemas = document.get("components", {}).get("schemas", {})
    operations = [(path, operation) for path, by_method in document.get("paths", {}).items()
                  for operation in by_method.values() if "operationId" in operation]
    for path, operation in operations:
        for status, response in operation.get("responses", {}).items():
            if not status.startswith("2"):
                continue
            fields = _fields(response, schemas)
            links = {}
            for target_path, target in operations:
                parameters = _parameters(path, fields, target_path)
                if parameters:
                    links[target["operationId"]] = {"operationId": target["operationId"], "parameters": parameters}
            if links:
                response["links"] = links


def _collection(path: str) -> str:
    return path.split("{", 1)[0] if "{" in path else path.rstrip("/") + "/"


def _parameters(source_path: str, fields: dict[str, str], target_path: str) -> dict[str, str]:
    """How to fill the target's path parameters from the source; {} unless the first (the identity) is known."""
    names = _PARAMETER.findall(target_path)
    if not names or _collection(source_path) != _collection(target_path):
        return {}
    own = set(_PARAMETER.findall(source_path))
    parameters = {}
    for name in names:
        if name in own:
            parameters[name] = f"$request.path.{name}"
        elif name in fields:
            parameters[name] = f"$response.body#{fields[name]}"
        elif name.endswith("_id") and "id" in fields:
            parameters[name] = f"$response.body#{fields['id']}"
    return parameters if names[0] in parameters else {}


def _fields(response: dict[str, Any], schemas: dict[str, Any]) -> dict[str, str]:
    """A JSON answer's fields as JSON pointers: its own (`/id`), then its first list element's (`/items/0/id`)."""
    schema = _resolve(response.get("content", {}).get("application/json", {}).get("schema", {}), schemas)
    if schema.get("type") == "array":  # a bare list: its first element's fields
        element = _resolve(schema.get("items", {}), schemas)
        return {name: f"/0/{name}" for name in element.get("properties", {})}
    properties = schema.get("properties", {})
    fields = {}
    for name, prop in properties.items():
        element = _resolve(_resolve(prop, schemas).get("items", {}), schemas)
        for inner in element.get("properties", {}):
            fields.setdefault(inner, f"/{name}/0/{inner}")
    fields.update({name: f"/{name}" for name in properties})
    return fields


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema
