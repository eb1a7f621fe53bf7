"""Typed reads of untrusted request JSON, shared by the protocol packages.

Each read checks the type it needs and raises ``InvalidRequest`` naming the
field by its path (``messages[2].content``). Only the wording differs per
protocol, so that a translated 400 reads like the provider's own (OpenAI
"Invalid type for 'x'", Anthropic "x: field required", Google "Invalid value
at 'x'"): each package builds one ``FieldReader`` with its phrasing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class FieldReader:
    wrong_message: Callable[[str, str], str]  # (param, what was expected)
    missing_message: Callable[[str], str]
    int_strings: bool = False  # proto3 JSON spells int64 values as strings ("1024")

    def wrong(self, param: str, expected: str) -> InvalidRequest:
        return InvalidRequest(self.wrong_message(param, expected), param=param)

    def missing(self, param: str) -> InvalidRequest:
        return InvalidRequest(self.missing_message(param), param=param)

    def optional_str(self, value: Any, param: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        raise self.wrong(param, "a string")

    def required_str(self, value: Any, param: str) -> str:
        if isinstance(value, str):
            return value
        found = self.optional_str(value, param)
        if found is None:
            raise self.missing(param)
        return found

    def optional_dict(self, value: Any, param: str) -> dict[str, Any] | None:
        if value is None or isinstance(value, dict):
            return value
        raise self.wrong(param, "an object")

    def dict_or_empty(self, value: Any, param: str) -> dict[str, Any]:
        """An object, with ``null``/absent read as empty."""
        return self.optional_dict(value, param) or {}

    def required_dict(self, value: Any, param: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        found = self.optional_dict(value, param)
        if found is None:
            raise self.missing(param)
        return found

    def optional_list(self, value: Any, param: str) -> list[Any]:
        """A list, with ``null``/absent read as empty."""
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self.wrong(param, "an array")

    def optional_bool(self, value: Any, param: str) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        raise self.wrong(param, "a boolean")

    def optional_int(self, value: Any, param: str) -> int | None:
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if self.int_strings and isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise self.wrong(param, "an integer")

    def optional_float(self, value: Any, param: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise self.wrong(param, "a number")


def unsupported(param: str, what: str) -> InvalidRequest:
    return InvalidRequest(f"{param}: {what} cannot be translated for this model", param=param)


OPENAI_FIELDS = FieldReader(
    wrong_message=lambda param, expected: f"Invalid type for '{param}': expected {expected}.",
    missing_message=lambda param: f"Missing required parameter: '{param}'.",
)
