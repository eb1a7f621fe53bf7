"""Validators for the Gemini fields the gateway itself reads.

Google's JSON parser accepts snake_case as well as camelCase in requests
(PROTOCOLS.md 5.1), so both spellings are read.
"""

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

_CONTENT = cs.typed_dict_schema(
    {"parts": cs.typed_dict_field(cs.list_schema(cs.dict_schema()), required=False)},
    extra_behavior="ignore",
)
_CONTENTS = cs.list_schema(_CONTENT)

GENERATE_REQUEST = SchemaValidator(
    cs.typed_dict_schema(
        {"contents": cs.typed_dict_field(_CONTENTS)},
        extra_behavior="ignore",
    )
)

_EMBEDDED_REQUEST = cs.typed_dict_schema(
    {
        "model": cs.typed_dict_field(cs.nullable_schema(cs.str_schema()), required=False),
        "contents": cs.typed_dict_field(_CONTENTS),
    },
    extra_behavior="ignore",
)

_COUNT_ALIASES: list[list[str | int]] = [["generateContentRequest"], ["generate_content_request"]]

COUNT_TOKENS_REQUEST = SchemaValidator(
    cs.typed_dict_schema(
        {
            "contents": cs.typed_dict_field(_CONTENTS, required=False),
            "generateContentRequest": cs.typed_dict_field(
                _EMBEDDED_REQUEST,
                required=False,
                validation_alias=_COUNT_ALIASES,
            ),
        },
        extra_behavior="ignore",
    )
)
