"""Validators for the Chat Completions fields the gateway itself reads."""

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

_MESSAGE = cs.typed_dict_schema(
    {"role": cs.typed_dict_field(cs.str_schema())}, extra_behavior="ignore"
)
_STREAM_OPTIONS = cs.nullable_schema(
    cs.typed_dict_schema(
        {
            "include_usage": cs.typed_dict_field(
                cs.nullable_schema(cs.bool_schema()), required=False
            )
        },
        extra_behavior="ignore",
    )
)

CHAT_REQUEST = SchemaValidator(
    cs.typed_dict_schema(
        {
            "model": cs.typed_dict_field(cs.nullable_schema(cs.str_schema()), required=False),
            "messages": cs.typed_dict_field(cs.list_schema(_MESSAGE, min_length=1)),
            "stream": cs.typed_dict_field(cs.nullable_schema(cs.bool_schema()), required=False),
            "user": cs.typed_dict_field(cs.nullable_schema(cs.str_schema()), required=False),
            "prompt_cache_key": cs.typed_dict_field(
                cs.nullable_schema(cs.str_schema()), required=False
            ),
            "stream_options": cs.typed_dict_field(_STREAM_OPTIONS, required=False),
        },
        extra_behavior="ignore",
    )
)
