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


_BACKSLASH = ord("\\")
_QUOTED: dict[str, bytes] = {}  # "name" -> b'"name"', made once per member name


def tail_member(document: bytes, name: str) -> tuple[bool, Any]:
    """``(True, value)`` of the member ``name`` of the JSON object ``document`` when its
    last occurrence is a top-level member, parsing only from there on; ``(False, None)``
    when that cannot be told this way (the caller parses the whole document).

    Providers put usage at the end of a reply, after the content that makes its bulk.
    From a top-level member to the end, a valid object's text is ``"name": value, ...}``,
    so ``{`` before it is an object again; from a nested member, or from ``"name"`` as a
    string value, the braces do not balance and orjson refuses it. Inside a string a
    quote is escaped, so a match preceded by a backslash is never taken."""
    quoted = _QUOTED.get(name)
    if quoted is None:
        quoted = _QUOTED[name] = f'"{name}"'.encode()
    at = document.rfind(quoted)
    if at <= 0 or document[at - 1] == _BACKSLASH:
        return False, None
    try:
        tail = orjson.loads(b"{" + document[at:])
    except orjson.JSONDecodeError:
        return False, None
    return True, tail.get(name)
