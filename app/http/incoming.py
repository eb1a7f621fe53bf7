"""Reading an incoming request: its path, its headers, its body and its credential.

BlackSheep's own accessors cost more than the gateway needs on every request:
``request.url`` parses the path into a URL object, ``get_first_header`` lowers
every header name on each call, and ``request.read()`` always waits for one
more ASGI message after the body and copies the body twice. These read the
ASGI scope and messages directly.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from blacksheep import Request  # noqa: TID251 - the HTTP layer owns BlackSheep
from blacksheep.contents import ASGIContent  # noqa: TID251

from app.core.errors import InvalidRequest, RequestTooLarge

Receive = Callable[[], Awaitable[dict[str, Any]]]
Headers = dict[bytes, bytes]


def request_path(request: Request) -> str:
    """The path as sent (percent-escapes kept), without building a URL object."""
    return request.scope["raw_path"].decode("utf-8", "replace")


def header_map(request: Request) -> Headers:
    """Each header's first value, by name. ASGI servers give names in lower case
    (Granian, uvicorn and hypercorn do), so a lookup is one dict access."""
    return dict(reversed(request.scope["headers"]))


def receiver(request: Request) -> Receive:
    """The request's ASGI ``receive``."""
    content = request.content
    if not isinstance(content, ASGIContent):
        raise InvalidRequest("Request body is missing; send a JSON object.")
    receive: Receive = content.receive
    return receive


async def read_body(receive: Receive, declared: bytes | None, limit: int) -> bytes:
    """The body, at most ``limit`` bytes, read with as few ``receive()`` calls as its
    framing allows.

    Granian marks its first body message ``more_body`` even when it holds the whole
    body, and each further ``receive()`` is a future completed from Granian's own
    threads: ~20 us of worker CPU per request, measured (loadtest/RESULTS.md,
    History). A body that has reached its ``Content-Length`` is complete, so the
    common request takes one ``receive()``; a chunked body is read to its end."""
    expected = _declared_length(declared, limit)
    message = await receive()
    body = _body_of(message)
    more = message.get("more_body", False)
    if more and (expected is None or len(body) < expected):
        body = await _rest(receive, body, expected, limit)
    elif expected is not None and len(body) != expected:
        raise _wrong_length(len(body), expected)
    if not body:
        raise InvalidRequest("Request body is empty; send a JSON object.")
    return body


def _declared_length(declared: bytes | None, limit: int) -> int | None:
    if declared is None:
        return None
    try:
        size = int(declared)
    except ValueError:
        raise InvalidRequest("Content-Length is not a number.") from None
    if size < 0:
        raise InvalidRequest("Content-Length is negative.")
    if size > limit:
        raise RequestTooLarge(f"Request body is {size} bytes; the limit is {limit} bytes.")
    return size


async def _rest(receive: Receive, first: bytes, expected: int | None, limit: int) -> bytes:
    """The body's following messages, until its end or its declared length."""
    parts, size = [first], len(first)
    while True:
        message = await receive()
        part = _body_of(message)
        size += len(part)
        if size > limit:
            raise RequestTooLarge(f"Request body is over the {limit}-byte limit.")
        parts.append(part)
        if expected is not None and size >= expected:
            break
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    if expected is not None and size != expected:
        raise _wrong_length(size, expected)
    return body


def _wrong_length(size: int, expected: int) -> InvalidRequest:
    return InvalidRequest(f"Request body is {size} bytes; its Content-Length says {expected}.")


def _body_of(message: dict[str, Any]) -> bytes:
    if message["type"] != "http.request":  # http.disconnect: nobody is left to answer
        raise InvalidRequest("The client closed the connection before sending the whole body.")
    body: bytes = message.get("body", b"")
    return body


def credential(request: Request, headers: Headers) -> str | None:
    """The first non-empty of ``Authorization: Bearer``, ``x-api-key``,
    ``x-goog-api-key`` and ``?key=``, whatever the route (PROTOCOLS.md 1.2)."""
    authorization = headers.get(b"authorization")
    if authorization:
        scheme, _, token = authorization.strip().partition(b" ")
        if scheme.lower() == b"bearer" and token.strip():
            return token.strip().decode("latin-1")
    for name in (b"x-api-key", b"x-goog-api-key"):
        value = headers.get(name)
        if value and value.strip():
            return value.strip().decode("latin-1")
    return query_value(request, "key") or None


def query_value(request: Request, name: str) -> str | None:
    """The first value of a query parameter (parsing the query string only if there is one)."""
    if not request.scope["query_string"]:
        return None
    values = request.query.get(name)
    return values[0] if values else None
