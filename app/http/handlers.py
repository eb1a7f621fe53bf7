"""Endpoint handlers: read and bound the request, call a service, shape the reply."""

import asyncio
import hashlib
import hmac
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from blacksheep import Request, Response  # noqa: TID251 - the HTTP layer owns BlackSheep
from pydantic_core import SchemaValidator

from app import __version__
from app.canonical.protocol import ERROR_SHAPE, ErrorShape, WireProtocol
from app.core.errors import (
    AuthenticationFailed,
    GatewayError,
    InternalError,
    NotFound,
)
from app.http.disconnect import Watches
from app.http.incoming import (
    Headers,
    credential,
    header_map,
    query_value,
    read_body,
    receiver,
    request_path,
)
from app.http.respond import error_response, json_response, reply_response
from app.http.routes import PROTOCOL, Endpoint, RouteMatch, error_shape_for_path, match_route
from app.protocols.anthropic.schema import COUNT_TOKENS_REQUEST, MESSAGES_REQUEST
from app.protocols.gemini.schema import COUNT_TOKENS_REQUEST as GEMINI_COUNT_TOKENS_REQUEST
from app.protocols.gemini.schema import GENERATE_REQUEST
from app.protocols.openai_chat.schema import CHAT_REQUEST
from app.protocols.openai_responses.schema import RESPONSES_REQUEST
from app.protocols.validation import parse_body
from app.services import catalog
from app.services.auth import Caller
from app.services.gateway import Gateway
from app.services.relay import Call
from app.upstream.accounts import Operation

log = logging.getLogger("switchyard.http")

Handler = Callable[[Request, RouteMatch], Awaitable[Response]]

_VALIDATORS: dict[Endpoint, SchemaValidator] = {
    Endpoint.CHAT: CHAT_REQUEST,
    Endpoint.RESPONSES: RESPONSES_REQUEST,
    Endpoint.MESSAGES: MESSAGES_REQUEST,
    Endpoint.COUNT_TOKENS: COUNT_TOKENS_REQUEST,
    Endpoint.GEMINI_GENERATE: GENERATE_REQUEST,
    Endpoint.GEMINI_STREAM: GENERATE_REQUEST,
    Endpoint.GEMINI_COUNT_TOKENS: GEMINI_COUNT_TOKENS_REQUEST,
}
_MODELS_ROUTE = {
    ErrorShape.OPENAI: "/v1/models",
    ErrorShape.ANTHROPIC: "/v1/models",
    ErrorShape.GEMINI: "/v1beta/models",
}


class Handlers:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._request_ids = RequestIds()
        self._watches = Watches()
        self._max_body = gateway.config.server.max_body_bytes
        self._by_endpoint: dict[Endpoint, Handler] = {
            **{endpoint: self.relay for endpoint in _VALIDATORS},
            Endpoint.MODELS: self.models,
            Endpoint.MODEL: self.model,
            Endpoint.GEMINI_MODELS: self.models,
            Endpoint.GEMINI_MODEL: self.model,
            Endpoint.ROOT: self.root,
            Endpoint.HEALTHZ: self.healthz,
            Endpoint.READYZ: self.readyz,
            Endpoint.ADMIN_ACCOUNTS: self.admin_accounts,
        }

    async def dispatch(self, request: Request) -> Response:
        path = request_path(request)
        try:
            route = match_route(request.method, path)
        except GatewayError as exc:
            return error_response(error_shape_for_path(path), exc)
        try:
            return await self._by_endpoint[route.endpoint](request, route)
        except GatewayError as exc:
            return error_response(_shape(request, route), exc)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, path)
            return error_response(_shape(request, route), InternalError("Internal error."))

    async def relay(self, request: Request, route: RouteMatch) -> Response:
        protocol = PROTOCOL[route.endpoint]
        request_id = self._request_ids.next()
        headers = header_map(request)
        caller = self.gateway.keys.authenticate(credential(request, headers))
        receive = receiver(request)
        body = await read_body(receive, headers.get(b"content-length"), self._max_body)
        document, envelope = parse_body(_VALIDATORS[route.endpoint], body)
        call = _call(
            protocol, route, request, headers, envelope, body, document, caller, request_id
        )
        watch = self._watches.watch(receive)
        try:
            reply = await self.gateway.relay.handle(call)
        except asyncio.CancelledError:
            if watch.absorb():
                return Response(499)
            raise
        except GatewayError as exc:
            # The ledger may hold a record under this id (502, 504): give it to the caller.
            watch.stop()
            return error_response(ERROR_SHAPE[protocol], exc, request_id)
        except BaseException:
            watch.stop()
            raise
        if reply.stream is None:
            watch.stop()
            return reply_response(reply)
        return reply_response(reply, partial(watch.guard, reply.stream))

    async def models(self, request: Request, route: RouteMatch) -> Response:
        self._authenticate(request)
        models = self.gateway.registry.models
        shape = _shape(request, route)
        if shape is ErrorShape.GEMINI:
            return json_response(
                catalog.gemini_list(
                    models,
                    page_size=query_value(request, "pageSize"),
                    page_token=query_value(request, "pageToken"),
                )
            )
        if shape is ErrorShape.ANTHROPIC:
            return json_response(
                catalog.anthropic_list(
                    models,
                    limit=query_value(request, "limit"),
                    after_id=query_value(request, "after_id"),
                    before_id=query_value(request, "before_id"),
                )
            )
        return json_response(catalog.openai_list(models))

    async def model(self, request: Request, route: RouteMatch) -> Response:
        self._authenticate(request)
        shape = _shape(request, route)
        found = self.gateway.registry.model(route.model or "")
        if found is None:
            raise NotFound(
                f"The model '{route.model}' is not in this gateway's catalog. "
                f"GET {_MODELS_ROUTE[shape]} lists the available models.",
                param="model",
                code="model_not_found",
            )
        if shape is ErrorShape.GEMINI:
            return json_response(catalog.gemini_model(found))
        if shape is ErrorShape.ANTHROPIC:
            return json_response(catalog.anthropic_model(found))
        return json_response(catalog.openai_model(found))

    async def root(self, request: Request, route: RouteMatch) -> Response:
        if request.method == "HEAD":
            return Response(200)
        return json_response(
            {
                "name": "switchyard",
                "version": __version__,
                "docs": "see README.md; GET /v1/models lists models",
            }
        )

    async def healthz(self, request: Request, route: RouteMatch) -> Response:
        return json_response({"status": "ok"})

    async def readyz(self, request: Request, route: RouteMatch) -> Response:
        if not self.gateway.ready:
            return json_response({"status": "starting"}, status=503)
        return json_response(
            {
                "status": "ready",
                "accounts": len(self.gateway.accounts),
                "models": len(self.gateway.registry.models),
            }
        )

    async def admin_accounts(self, request: Request, route: RouteMatch) -> Response:
        """Each account's breaker, load and last failure, behind the admin token."""
        expected = self.gateway.config.server.admin_token_sha256
        if expected is None:
            raise NotFound("The admin endpoint is off; set server.admin_token_env to enable it.")
        presented = credential(request, header_map(request)) or ""
        digest = hashlib.sha256(presented.encode()).hexdigest()
        if not presented or not hmac.compare_digest(digest, expected):
            raise AuthenticationFailed("Invalid admin token.")
        return json_response({"accounts": self.gateway.pool.snapshot()})

    def _authenticate(self, request: Request) -> Caller:
        return self.gateway.keys.authenticate(credential(request, header_map(request)))


class RequestIds:
    """``req_`` + 12 random hex digits drawn once per worker + a counter: unique
    across workers and restarts without a random draw per request."""

    __slots__ = ("_count", "_prefix")

    def __init__(self) -> None:
        self._prefix = f"req_{secrets.token_hex(6)}"
        self._count = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._count):012x}"


def _call(
    protocol: WireProtocol,
    route: RouteMatch,
    request: Request,
    headers: Headers,
    envelope: dict[str, Any],
    body: bytes,
    document: dict[str, Any],
    caller: Caller,
    request_id: str,
) -> Call:
    stream = bool(envelope.get("stream"))
    if route.endpoint is Endpoint.GEMINI_STREAM:
        stream = True
    operation = Operation.STREAM if stream else Operation.GENERATE
    if route.endpoint in (Endpoint.COUNT_TOKENS, Endpoint.GEMINI_COUNT_TOKENS):
        operation = Operation.COUNT_TOKENS
    options = envelope.get("stream_options") or {}
    forward = {}
    gemini_sse = False
    if protocol is WireProtocol.ANTHROPIC:
        version = headers.get(b"anthropic-version")
        if version:
            forward["anthropic-version"] = version.decode("latin-1")
        betas = [value.decode("latin-1") for value in request.get_headers(b"anthropic-beta")]
        if betas:
            forward["anthropic-beta"] = ",".join(betas)
    elif protocol is WireProtocol.GEMINI:
        gemini_sse = query_value(request, "alt") == "sse"
    shape = ERROR_SHAPE[protocol]
    return Call(
        protocol=protocol,
        operation=operation,
        body=body,
        document=document,
        requested_model=route.model if protocol is WireProtocol.GEMINI else envelope.get("model"),
        path_model=route.model,
        session=_session(headers, envelope, caller),
        caller=caller,
        request_id=request_id,
        models_route=_MODELS_ROUTE[shape],
        include_usage=bool(options.get("include_usage")),
        has_stream_options="stream_options" in envelope,
        gemini_sse=gemini_sse,
        forward_headers=forward,
    )


_SESSION_HEADERS = (b"x-claude-code-session-id", b"session_id", b"conversation_id", b"x-session-id")


def _session(headers: Headers, envelope: dict[str, Any], caller: Caller) -> str | None:
    """The conversation a request belongs to: Claude Code's and Codex's session
    headers, else ``prompt_cache_key``, Anthropic ``metadata.user_id`` or OpenAI
    ``user``. Scoped to the caller's key, so two tenants never share a binding."""
    for name in _SESSION_HEADERS:
        value = headers.get(name)
        if value:
            return f"{caller.key_name}:{value.decode('latin-1')}"
    metadata = envelope.get("metadata") or {}
    found = envelope.get("prompt_cache_key") or metadata.get("user_id") or envelope.get("user")
    return f"{caller.key_name}:{found}" if found else None


def _shape(request: Request, route: RouteMatch) -> ErrorShape:
    protocol = PROTOCOL.get(route.endpoint)
    if protocol is not None:
        return ERROR_SHAPE[protocol]
    if route.endpoint in (Endpoint.GEMINI_MODELS, Endpoint.GEMINI_MODEL):
        return ErrorShape.GEMINI
    return models_shape(request)


def models_shape(request: Request) -> ErrorShape:
    """Which family asked ``GET /v1/models`` (PROTOCOLS.md 1.4, plus Gemini's own headers)."""
    headers = header_map(request)
    if headers.get(b"anthropic-version"):
        return ErrorShape.ANTHROPIC
    if headers.get(b"user-agent", b"").startswith(b"claude-cli"):
        return ErrorShape.ANTHROPIC
    has_bearer = b"authorization" in headers
    if headers.get(b"x-api-key") and not has_bearer:
        return ErrorShape.ANTHROPIC
    if headers.get(b"x-goog-api-key") or (query_value(request, "key") and not has_bearer):
        return ErrorShape.GEMINI
    return ErrorShape.OPENAI
