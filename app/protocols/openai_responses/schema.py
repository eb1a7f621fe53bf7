"""Validators for the Responses fields the gateway itself reads."""

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

_INPUT = cs.union_schema(
    [cs.str_schema(), cs.list_schema(cs.typed_dict_schema({}, extra_behavior="ignore"))]
)

RESPONSES_REQUEST = SchemaValidator(
    cs.typed_dict_schema(
        {
            "model": cs.typed_dict_field(cs.nullable_schema(cs.str_schema()), required=False),
            "input": cs.typed_dict_field(cs.nullable_schema(_INPUT), required=False),
            "instructions": cs.typed_dict_field(
                cs.nullable_schema(cs.str_schema()), required=False
            ),
            "stream": cs.typed_dict_field(cs.nullable_schema(cs.bool_schema()), required=False),
            "user": cs.typed_dict_field(cs.nullable_schema(cs.str_schema()), required=False),
            "prompt_cache_key": cs.typed_dict_field(
                cs.nullable_schema(cs.str_schema()), required=False
            ),
        },
        extra_behavior="ignore",
    )
)
