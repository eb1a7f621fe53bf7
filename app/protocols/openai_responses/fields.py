"""Typed reads of Responses request fields, in OpenAI's own wording (PROTOCOLS.md 3.7)."""

from app.protocols.fields import OPENAI_FIELDS as _READ

wrong = _READ.wrong
missing = _READ.missing
optional_str = _READ.optional_str
required_str = _READ.required_str
optional_dict = _READ.optional_dict
required_dict = _READ.required_dict
optional_list = _READ.optional_list
optional_bool = _READ.optional_bool
optional_int = _READ.optional_int
optional_float = _READ.optional_float
