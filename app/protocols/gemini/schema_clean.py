"""JSON Schema cleaned into the subset Gemini accepts for ``parametersJsonSchema``.

Gemini answers 400 "Invalid JSON payload received. Unknown name ..." for
``$schema``, ``exclusiveMinimum``, ``propertyNames``, ``const``, type arrays
and more, which Claude Code and Zod-generated tool schemas use everywhere
(PROTOCOLS.md 7.5, E28). The cleaner keeps only the keywords of the SDK's
``Schema`` type and rewrites the rest into them:

- local ``$ref``s are inlined (``$defs``/``definitions`` then dropped); a
  reference cycle is cut to a plain object;
- ``const`` becomes a one-value ``enum``; ``exclusiveMinimum``/``Maximum``
  become ``minimum``/``maximum`` (one step inside for integers);
- a ``null`` member of a type array or of ``anyOf``/``oneOf`` becomes
  ``nullable``; ``oneOf`` is read as ``anyOf``; ``allOf`` is merged;
- ``enum`` values become strings; a numeric or boolean enum is moved into the
  description instead, so the model still emits the declared type;
- ``required`` keeps only properties that exist.

It walks schema nodes only: the keys of ``properties`` are property names and
stay untouched, whatever they look like (CPA's warning in ``gemini_schema.go``).
"""

from typing import Any

from app.core import json

# Keys copied as they are; everything else is rewritten below or dropped.
_PLAIN_KEYS = (
    "title",
    "description",
    "default",
    "example",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "propertyOrdering",
)
# The ``format`` values the SDK documents; others ("uri", "uuid") are rejected.
_FORMATS = frozenset(
    {"float", "double", "int32", "int64", "email", "byte", "date", "date-time", "password", "enum"}
)
_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_NUMERIC = frozenset({"integer", "number", "boolean"})
_CYCLE = {"type": "object"}


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return _Cleaner(schema).node(schema)


class _Cleaner:
    __slots__ = ("_expanding", "_root")

    def __init__(self, root: dict[str, Any]) -> None:
        self._root = root
        self._expanding: list[str] = []

    def node(self, schema: Any) -> dict[str, Any]:
        if not isinstance(schema, dict):
            return {}  # a boolean schema: anything goes
        if isinstance(schema.get("$ref"), str):
            return self._inline(schema)
        if isinstance(schema.get("allOf"), list):
            return self._merge_all_of(schema)
        out: dict[str, Any] = {key: schema[key] for key in _PLAIN_KEYS if key in schema}
        self._type(schema, out)
        self._bounds(schema, out)
        self._format(schema, out)
        self._children(schema, out)
        self._union(schema, out)
        self._enum(schema, out)
        if "properties" in out and "type" not in out and "anyOf" not in out:
            out["type"] = "object"
        if out.get("type") == "array" and "items" not in out:
            # Gemini rejects an array schema without ``items`` (CPA adds the same default).
            out["items"] = {"type": "string"}
        return out

    def _inline(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref: str = schema["$ref"]
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        if ref in self._expanding:
            return {**_CYCLE, **self.node(siblings)}
        target = self._resolve(ref)
        if target is None:
            return self.node(siblings)
        self._expanding.append(ref)
        try:
            return self.node({**target, **siblings})
        finally:
            self._expanding.pop()

    def _resolve(self, ref: str) -> dict[str, Any] | None:
        """The node a local JSON pointer (``#/$defs/Name``) points at."""
        if not ref.startswith("#"):
            return None
        node: Any = self._root
        for token in ref[1:].lstrip("/").split("/") if ref != "#" else []:
            key = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                node = node.get(key)
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return None
        return node if isinstance(node, dict) else None

    def _merge_all_of(self, schema: dict[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
        for branch in schema["allOf"]:
            part = self.node(branch)
            properties = {**part.pop("properties", {}), **merged.get("properties", {})}
            required = [*merged.get("required", []), *part.pop("required", [])]
            for key, value in part.items():
                merged.setdefault(key, value)
            if properties:
                merged["properties"] = properties
            if required:
                merged["required"] = list(dict.fromkeys(required))
        return self.node(merged)

    def _type(self, schema: dict[str, Any], out: dict[str, Any]) -> None:
        kind = schema.get("type")
        if isinstance(kind, str) and kind.lower() in _TYPES:
            out["type"] = kind.lower()
        elif isinstance(kind, list):
            names = [name.lower() for name in kind if isinstance(name, str)]
            members = [name for name in dict.fromkeys(names) if name in _TYPES - {"null"}]
            if "null" in names:
                out["nullable"] = True
            if len(members) == 1:
                out["type"] = members[0]
            elif members:
                out["anyOf"] = [{"type": name} for name in members]
            elif "null" in names:
                out["type"] = "null"
        if schema.get("nullable") is True:
            out["nullable"] = True

    def _bounds(self, schema: dict[str, Any], out: dict[str, Any]) -> None:
        step = 1 if out.get("type") == "integer" else 0
        for exclusive, inclusive, sign in (
            ("exclusiveMinimum", "minimum", 1),
            ("exclusiveMaximum", "maximum", -1),
        ):
            value = schema.get(exclusive)
            if isinstance(value, bool):  # draft 4: a flag on minimum/maximum
                if value and isinstance(out.get(inclusive), int | float):
                    out[inclusive] += sign * step
            elif isinstance(value, int | float):
                bound = value + sign * step
                current = out.get(inclusive)
                if isinstance(current, int | float):
                    bound = max(bound, current) if sign > 0 else min(bound, current)
                out[inclusive] = bound

    def _format(self, schema: dict[str, Any], out: dict[str, Any]) -> None:
        value = schema.get("format")
        if isinstance(value, str) and value in _FORMATS:
            out["format"] = value

    def _children(self, schema: dict[str, Any], out: dict[str, Any]) -> None:
        properties = schema.get("properties")
        if isinstance(properties, dict):
            out["properties"] = {name: self.node(value) for name, value in properties.items()}
        required = schema.get("required")
        if isinstance(required, list) and "properties" in out:
            kept = [name for name in required if name in out["properties"]]
            if kept:
                out["required"] = list(dict.fromkeys(kept))
        items = schema.get("items")
        if isinstance(items, list):  # draft 4 tuple form: keep the first item's schema
            items = items[0] if items else None
        if isinstance(items, dict):
            out["items"] = self.node(items)

    def _union(self, schema: dict[str, Any], out: dict[str, Any]) -> None:
        branches = [
            branch
            for key in ("anyOf", "oneOf")
            if isinstance(schema.get(key), list)
            for branch in schema[key]
        ]
        if not branches:
            return
        cleaned = [self.node(branch) for branch in branches]
        kept = [branch for branch in cleaned if branch.get("type") != "null"]
        if len(kept) < len(cleaned):
            out["nullable"] = True
        if len(kept) == 1:
            for key, value in kept[0].items():
                out.setdefault(key, value)
        elif kept:
            out["anyOf"] = kept

    def _enum(self, schema: dict[str, Any], out: dict[str, Any]) -> None:
        values = schema.get("enum")
        if not isinstance(values, list):
            values = [schema["const"]] if "const" in schema else None
        if values is None:
            return
        if None in values:
            out["nullable"] = True
            values = [value for value in values if value is not None]
        if not values:
            return
        if out.get("type") in _NUMERIC and not all(isinstance(v, str) for v in values):
            allowed = ", ".join(json.dumps(value).decode() for value in values)
            hint = f"Allowed values: {allowed}."
            out["description"] = f"{out['description']} {hint}" if "description" in out else hint
            return
        out["enum"] = [_enum_text(value) for value in values]
        out.setdefault("type", "string")


def _enum_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value).decode()
