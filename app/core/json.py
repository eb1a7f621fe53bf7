"""The one module that imports orjson: every JSON encode/decode goes through here."""

from typing import Any

import orjson  # noqa: TID251 - this is the module orjson lives behind

JSONDecodeError = orjson.JSONDecodeError


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    return orjson.loads(data)


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def dumps_pretty(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)
