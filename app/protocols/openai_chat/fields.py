"""Typed reads of Chat Completions request fields.

A client body is untrusted JSON: each read checks the type it needs and
raises ``InvalidRequest`` naming the field by its path (``messages[2].content``),
the way OpenAI itself names fields in its 400s (PROTOCOLS.md 2.8).
"""

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
