"""The Gemini schema sanitizer (PROTOCOLS.md 7.5, E28) on the schemas that break real traffic."""

from typing import Any

import pytest
from google.genai import types

from app.protocols.gemini.schema_clean import clean_schema

# Claude Code's Bash tool, as Zod emits it: $schema, additionalProperties, exclusiveMinimum.
CLAUDE_BASH = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "command": {"type": "string", "description": "The command to execute"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 600000},
        "run_in_background": {"type": "boolean"},
    },
    "required": ["command"],
    "additionalProperties": False,
}


def test_claude_code_bash_schema() -> None:
    assert clean_schema(CLAUDE_BASH) == {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The command to execute"},
            "timeout": {"type": "number", "minimum": 0, "maximum": 600000},
            "run_in_background": {"type": "boolean"},
        },
        "required": ["command"],
    }


def test_cleaned_schemas_fit_the_sdk_schema_type() -> None:
    # The SDK's Schema forbids unknown keys: whatever survives must be one of its fields.
    for schema in (CLAUDE_BASH, DEFS, UNIONS, CONSTS):
        types.Schema.model_validate(clean_schema(schema))


def test_property_names_are_never_touched() -> None:
    schema = {
        "type": "object",
        "properties": {
            "$schema": {"type": "string"},
            "const": {"type": "integer", "exclusiveMinimum": 1},
            "x-trace": {"type": "string", "x-internal": True},
            "additionalProperties": {"type": "boolean"},
        },
        "required": ["const", "missing", "$schema"],
        "propertyNames": {"pattern": "^[a-z$-]+$"},
        "patternProperties": {"^x-": {"type": "string"}},
    }
    assert clean_schema(schema) == {
        "type": "object",
        "properties": {
            "$schema": {"type": "string"},
            "const": {"type": "integer", "minimum": 2},
            "x-trace": {"type": "string"},
            "additionalProperties": {"type": "boolean"},
        },
        "required": ["const", "$schema"],
    }


DEFS = {
    "type": "object",
    "$defs": {
        "point": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            "required": ["x", "y"],
        },
        "tree": {
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/tree"}}},
        },
    },
    "definitions": {"label": {"type": "string", "maxLength": 20}},
    "properties": {
        "start": {"$ref": "#/$defs/point", "description": "Where to begin"},
        "end": {"$ref": "#/$defs/point"},
        "label": {"$ref": "#/definitions/label"},
        "tree": {"$ref": "#/$defs/tree"},
        "remote": {"$ref": "https://example.com/schema.json", "description": "kept"},
    },
}


def test_local_refs_are_inlined_and_cycles_cut() -> None:
    point = {
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x", "y"],
    }
    assert clean_schema(DEFS) == {
        "type": "object",
        "properties": {
            "start": {**point, "description": "Where to begin"},
            "end": point,
            "label": {"type": "string", "maxLength": 20},
            "tree": {
                "type": "object",
                "properties": {
                    # The second visit of "tree" inside itself is cut to a plain object.
                    "children": {"type": "array", "items": {"type": "object"}}
                },
            },
            "remote": {"description": "kept"},
        },
    }


UNIONS = {
    "type": "object",
    "properties": {
        "maybe": {"type": ["string", "null"], "description": "optional text"},
        "either": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "one": {"oneOf": [{"type": "string"}, {"type": "number"}]},
        "many": {"type": ["string", "integer"]},
        "nothing": {"type": "null"},
        "both": {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"const": "fixed"}}, "required": ["b"]},
            ]
        },
        "unsure": {"type": "string", "if": {"minLength": 1}, "then": {}, "else": {}, "not": {}},
    },
}


def test_nullable_unions_and_merged_all_of() -> None:
    assert clean_schema(UNIONS)["properties"] == {
        "maybe": {"type": "string", "nullable": True, "description": "optional text"},
        "either": {"type": "integer", "nullable": True},
        "one": {"anyOf": [{"type": "string"}, {"type": "number"}]},
        "many": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "nothing": {"type": "null"},
        "both": {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string", "enum": ["fixed"]}},
            "required": ["a", "b"],
        },
        "unsure": {"type": "string"},
    }


CONSTS = {
    "type": "object",
    "properties": {
        "mode": {"const": "fast"},
        "level": {"type": "integer", "enum": [1, 2, 3], "description": "How hard."},
        "flag": {"enum": [True, False]},
        "size": {"type": "string", "enum": ["s", "m", None]},
        "count": {"type": "integer", "exclusiveMaximum": 10, "minimum": 0},
        "ratio": {"type": "number", "exclusiveMinimum": 0.5, "minimum": 0.1},
        "old": {"type": "integer", "minimum": 3, "exclusiveMinimum": True},
        "uri": {"type": "string", "format": "uri"},
        "when": {"type": "string", "format": "date-time"},
        "list": {"type": "array"},
        "meta": {
            "type": "string",
            "title": "Meta",
            "default": "x",
            "examples": ["a"],
            "deprecated": True,
            "$comment": "internal",
            "$id": "#meta",
        },
    },
}


def test_consts_enums_bounds_formats_and_dropped_keywords() -> None:
    assert clean_schema(CONSTS)["properties"] == {
        "mode": {"type": "string", "enum": ["fast"]},
        # A numeric enum would make the model answer strings: the values move to the text.
        "level": {"type": "integer", "description": "How hard. Allowed values: 1, 2, 3."},
        "flag": {"type": "string", "enum": ["true", "false"]},
        "size": {"type": "string", "enum": ["s", "m"], "nullable": True},
        "count": {"type": "integer", "minimum": 0, "maximum": 9},
        "ratio": {"type": "number", "minimum": 0.5},
        "old": {"type": "integer", "minimum": 4},
        "uri": {"type": "string"},
        "when": {"type": "string", "format": "date-time"},
        "list": {"type": "array", "items": {"type": "string"}},
        "meta": {"type": "string", "title": "Meta", "default": "x"},
    }


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"properties": {"a": {}}}, {"type": "object", "properties": {"a": {}}}),
        ({"type": "object", "required": ["a"]}, {"type": "object"}),
        ({"type": "STRING"}, {"type": "string"}),
        ({"items": [{"type": "string"}, {"type": "number"}]}, {"items": {"type": "string"}}),
        ({"anyOf": [{"type": "null"}]}, {"nullable": True}),
        ({"$ref": "#"}, {"type": "object"}),
    ],
)
def test_edge_shapes(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert clean_schema(schema) == expected


def test_the_input_is_not_modified() -> None:
    schema = {"type": ["string", "null"], "const": 1, "$defs": {"a": {"type": "string"}}}
    before = repr(schema)
    clean_schema(schema)
    assert repr(schema) == before
