"""Building BlackSheep responses: from service replies, JSON values and gateway errors."""

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from blacksheep import Content, Response  # noqa: TID251 - the HTTP layer owns BlackSheep
from blacksheep.contents import StreamedContent  # noqa: TID251

from app.canonical.protocol import ErrorShape
from app.core import json
from app.core.errors import ErrorKind, GatewayError, MethodNotAllowed, RateLimited
from app.protocols.errors import error_body
from app.services.relay import Reply

log = logging.getLogger("switchyard.http")

_JSON = b"application/json"
_STREAM_HEADERS = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


def json_response(value: Any, status: int = 200) -> Response:
    return Response(status, None, Content(_JSON, json.dumps(value)))


def error_response(
    shape: ErrorShape, error: GatewayError, request_id: str | None = None
) -> Response:
    headers: list[tuple[bytes, bytes]] = []
    if isinstance(error, MethodNotAllowed):
        headers.append((b"allow", ", ".join(error.allowed).encode()))
    if isinstance(error, RateLimited) and error.retry_after is not None:
        headers.append((b"retry-after", str(max(1, round(error.retry_after))).encode()))
    if request_id:
        headers.append((b"x-switchyard-request-id", request_id.encode()))
    return Response(status_for(shape, error), headers, Content(_JSON, error_body(shape, error)))


def status_for(shape: ErrorShape, error: GatewayError) -> int:
    """Anthropic clients (Claude Code, the SDK's OverloadedError) know overload as 529;
    everyone else as 503 (PROTOCOLS.md 7.14)."""
    if shape is ErrorShape.ANTHROPIC and error.kind is ErrorKind.OVERLOADED:
        return 529
    return error.status


def reply_response(
    reply: Reply, stream: Callable[[], AsyncIterator[bytes]] | None = None
) -> Response:
    """``stream``: an async generator function (BlackSheep requires one) yielding the body."""
    content_type = _JSON
    headers: list[tuple[bytes, bytes]] = []
    for name, value in reply.headers:
        if name == b"content-type":
            content_type = value
        else:
            headers.append((name, value))
    if stream is None:
        return Response(reply.status, headers, Content(content_type, reply.body))
    return Response(reply.status, headers + _STREAM_HEADERS, StreamedContent(content_type, stream))
