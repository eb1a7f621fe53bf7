"""Typed reads of Gemini request fields, in either spelling.

Google's JSON parser accepts snake_case as well as the documented camelCase
(``inline_data``, ``mime_type``, ``system_instruction``; PROTOCOLS.md 5.1), and
clients built on the older SDKs send it, so every read tries both. A client
body is untrusted JSON: each read checks the type it needs and raises
``InvalidRequest`` naming the field by its path (``contents[2].parts[0]``).
"""

import re
from typing import Any

from app.protocols.fields import FieldReader, unsupported

_UPPER = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _UPPER.sub("_", name).lower()


def field(obj: dict[str, Any], name: str) -> Any:
    """``obj[name]`` under its camelCase ``name`` or its snake_case twin (None when absent)."""
    value = obj.get(name)
    return obj.get(snake(name)) if value is None else value


def has(obj: dict[str, Any], name: str) -> bool:
    return name in obj or snake(name) in obj


_READ = FieldReader(
    wrong_message=lambda param, expected: f"Invalid value at '{param}': expected {expected}",
    missing_message=lambda param: f"{param}: field required",
    int_strings=True,
)

wrong = _READ.wrong
optional_dict = _READ.dict_or_empty  # null/absent objects read as empty here
optional_list = _READ.optional_list
optional_str = _READ.optional_str
required_str = _READ.required_str
optional_int = _READ.optional_int
optional_float = _READ.optional_float
optional_bool = _READ.optional_bool

__all__ = [
    "field",
    "has",
    "optional_bool",
    "optional_dict",
    "optional_float",
    "optional_int",
    "optional_list",
    "optional_str",
    "required_str",
    "snake",
    "unsupported",
    "wrong",
]
