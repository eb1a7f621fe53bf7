"""Typed reads of Gemini request fields, in either spelling.

Google's JSON parser accepts snake_case as well as the documented camelCase
(``inline_data``, ``mime_type``, ``system_instruction``; PROTOCOLS.md 5.1), and
clients built on the older SDKs send it, so every read tries both. A client
body is untrusted JSON: each read checks the type it needs and raises
``InvalidRequest`` naming the field by its path (``contents[2].parts[0]``).
"""

import re
from typing import Any

from app.core.errors import InvalidRequest

_UPPER = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    return _UPPER.sub("_", name).lower()


def field(obj: dict[str, Any], name: str) -> Any:
    """``obj[name]`` under its camelCase ``name`` or its snake_case twin (None when absent)."""
    value = obj.get(name)
    return obj.get(snake(name)) if value is None else value


def has(obj: dict[str, Any], name: str) -> bool:
    return name in obj or snake(name) in obj


def wrong(param: str, expected: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid value at '{param}': expected {expected}", param=param)


def unsupported(param: str, what: str) -> InvalidRequest:
    return InvalidRequest(f"{param}: {what} cannot be translated for this model", param=param)


def optional_dict(value: Any, param: str) -> dict[str, Any]:
    """An object, with ``null``/absent read as empty."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise wrong(param, "an object")


def optional_list(value: Any, param: str) -> list[Any]:
    """A list, with ``null``/absent read as empty."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise wrong(param, "an array")


def optional_str(value: Any, param: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise wrong(param, "a string")


def required_str(value: Any, param: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        raise InvalidRequest(f"{param}: field required", param=param)
    raise wrong(param, "a string")


def optional_int(value: Any, param: str) -> int | None:
    """An integer; proto3 JSON also spells int64 values as strings (``"1024"``)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise wrong(param, "an integer")


def optional_float(value: Any, param: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise wrong(param, "a number")


def optional_bool(value: Any, param: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise wrong(param, "a boolean")
