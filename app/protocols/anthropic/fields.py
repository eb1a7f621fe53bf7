"""Typed reads of Messages request fields.

A client body is untrusted JSON: each read checks the type it needs and raises
``InvalidRequest`` naming the field by its path (``messages[2].content[0].source``),
as Anthropic's own 400s do ("messages.2.content.0: ...", PROTOCOLS.md 4.9).
"""

from typing import Any

from app.core.errors import InvalidRequest


def wrong(param: str, expected: str) -> InvalidRequest:
    return InvalidRequest(f"{param}: expected {expected}", param=param)


def unsupported(param: str, what: str) -> InvalidRequest:
    return InvalidRequest(f"{param}: {what} cannot be translated for this model", param=param)


def required_str(value: Any, param: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        raise InvalidRequest(f"{param}: field required", param=param)
    raise wrong(param, "a string")


def optional_str(value: Any, param: str) -> str | None:
    return None if value is None else required_str(value, param)


def required_dict(value: Any, param: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if value is None:
        raise InvalidRequest(f"{param}: field required", param=param)
    raise wrong(param, "an object")


def optional_dict(value: Any, param: str) -> dict[str, Any]:
    """An object, with ``null``/absent read as empty."""
    return {} if value is None else required_dict(value, param)


def optional_list(value: Any, param: str) -> list[Any]:
    """A list, with ``null``/absent read as empty."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise wrong(param, "an array")


def optional_int(value: Any, param: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
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
