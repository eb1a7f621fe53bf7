"""Typed reads of Responses request fields.

A client body is untrusted JSON: each read checks the type it needs and
raises ``InvalidRequest`` naming the field by its path (``input[2].content``),
the way OpenAI names fields in its own 400s (PROTOCOLS.md 3.7).
"""

from typing import Any

from app.core.errors import InvalidRequest


def wrong(param: str, expected: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid type for '{param}': expected {expected}.", param=param)


def missing(param: str) -> InvalidRequest:
    return InvalidRequest(f"Missing required parameter: '{param}'.", param=param)


def optional_str(value: Any, param: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise wrong(param, "a string")


def required_str(value: Any, param: str) -> str:
    found = optional_str(value, param)
    if found is None:
        raise missing(param)
    return found


def optional_dict(value: Any, param: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise wrong(param, "an object")


def required_dict(value: Any, param: str) -> dict[str, Any]:
    found = optional_dict(value, param)
    if found is None:
        raise missing(param)
    return found


def optional_list(value: Any, param: str) -> list[Any]:
    """A list, with ``null``/absent read as empty."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise wrong(param, "an array")


def optional_bool(value: Any, param: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise wrong(param, "a boolean")


def optional_int(value: Any, param: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise wrong(param, "an integer")


def optional_float(value: Any, param: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise wrong(param, "a number")
