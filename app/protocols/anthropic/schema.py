"""Validators for the Messages fields the gateway itself reads."""

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

_MESSAGE = cs.typed_dict_schema(
    {"role": cs.typed_dict_field(cs.str_schema())}, extra_behavior="ignore"
)
_METADATA = cs.typed_dict_schema(
    {"user_id": cs.typed_dict_field(cs.nullable_schema(cs.str_schema()), required=False)},
    extra_behavior="ignore",
)
_MESSAGES = cs.typed_dict_field(cs.list_schema(_MESSAGE, min_length=1))
_MODEL = cs.typed_dict_field(cs.nullable_schema(cs.str_schema()), required=False)

MESSAGES_REQUEST = SchemaValidator(
    cs.typed_dict_schema(
        {
            "model": _MODEL,
            "messages": _MESSAGES,
            "max_tokens": cs.typed_dict_field(cs.int_schema(ge=1)),
            "stream": cs.typed_dict_field(cs.nullable_schema(cs.bool_schema()), required=False),
            "metadata": cs.typed_dict_field(cs.nullable_schema(_METADATA), required=False),
        },
        extra_behavior="ignore",
    )
)

COUNT_TOKENS_REQUEST = SchemaValidator(
    cs.typed_dict_schema({"model": _MODEL, "messages": _MESSAGES}, extra_behavior="ignore")
)
