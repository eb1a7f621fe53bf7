"""Gemini's OpenAPI-subset ``Schema`` read as JSON Schema (PROTOCOLS.md 5.4).

``functionDeclarations[].parameters`` and ``generationConfig.responseSchema``
use Google's ``Schema`` type: upper-case ``type`` names (``STRING``),
``nullable`` instead of a ``null`` type, ``example``, ``propertyOrdering``.
The canonical form holds JSON Schema, so these become ``{"type": "string"}``,
``{"type": ["string", "null"]}`` and so on. Keys may come in snake_case.
"""

from typing import Any

from app.protocols.gemini.fields import field

_COPIED = ("format", "description", "title", "default", "enum", "pattern", "minimum", "maximum")
# int64 fields, which proto3 JSON may spell as strings ("5").
_COUNTS = (
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
)


def to_json_schema(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    out: dict[str, Any] = {}
    for key in _COPIED:
        value = field(schema, key)
        if value is not None and not (key == "format" and value == "enum"):
            out[key] = value
    for key in _COUNTS:
        value = field(schema, key)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if value is not None:
            out[key] = value
    _type(schema, out)
    _children(schema, out)
    example = field(schema, "example")
    if example is not None:
        out["examples"] = [example]
    return out


def _type(schema: dict[str, Any], out: dict[str, Any]) -> None:
    kind = field(schema, "type")
    name = kind.lower() if isinstance(kind, str) and kind != "TYPE_UNSPECIFIED" else None
    if field(schema, "nullable") is True:
        out["type"] = [name, "null"] if name and name != "null" else "null"
    elif name:
        out["type"] = name


def _children(schema: dict[str, Any], out: dict[str, Any]) -> None:
    properties = field(schema, "properties")
    if isinstance(properties, dict):
        out["properties"] = {name: to_json_schema(value) for name, value in properties.items()}
    required = field(schema, "required")
    if isinstance(required, list):
        out["required"] = required
    items = field(schema, "items")
    if isinstance(items, dict):
        out["items"] = to_json_schema(items)
    any_of = field(schema, "anyOf")
    if isinstance(any_of, list):
        out["anyOf"] = [to_json_schema(branch) for branch in any_of]
    extra = field(schema, "additionalProperties")
    if isinstance(extra, bool):
        out["additionalProperties"] = extra
    elif isinstance(extra, dict):
        out["additionalProperties"] = to_json_schema(extra)
    definitions = schema.get("$defs", schema.get("defs"))
    if isinstance(definitions, dict):
        out["$defs"] = {name: to_json_schema(value) for name, value in definitions.items()}
    ref = schema.get("$ref", schema.get("ref"))
    if isinstance(ref, str):
        out["$ref"] = ref
