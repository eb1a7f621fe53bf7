"""Typed reads of Messages request fields, worded like Anthropic's own 400s
("messages.2.content.0: ...", PROTOCOLS.md 4.9)."""

from app.protocols.fields import FieldReader, unsupported

_READ = FieldReader(
    wrong_message=lambda param, expected: f"{param}: expected {expected}",
    missing_message=lambda param: f"{param}: field required",
)

wrong = _READ.wrong
required_str = _READ.required_str
optional_str = _READ.optional_str
required_dict = _READ.required_dict
optional_dict = _READ.dict_or_empty  # null/absent objects read as empty here
optional_list = _READ.optional_list
optional_int = _READ.optional_int
optional_float = _READ.optional_float
optional_bool = _READ.optional_bool

__all__ = [
    "optional_bool",
    "optional_dict",
    "optional_float",
    "optional_int",
    "optional_list",
    "optional_str",
    "required_dict",
    "required_str",
    "unsupported",
    "wrong",
]
