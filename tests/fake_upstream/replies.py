"""Choosing the reply to a provider request: the scripted one, an error, or the default success."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .contract import RecordedRequest
from .endpoints import Endpoint, Family, Operation, guess_family
from .protocols import anthropic_messages, gemini, openai_chat, openai_responses, openai_shared
from .protocols.common import JSON_TYPE, SSE_TYPE, Completion, Reply, TokenUsage, split_words
from .script import Action

DEFAULT_TEXT = "Hello from the fake upstream."
_DEFAULT_PIECES = split_words(DEFAULT_TEXT)


def build_reply(
    endpoint: Endpoint | None, recorded: RecordedRequest, action: Action, body_size: int
) -> Reply:
    """The reply before timing and drops, which the sender applies."""
    if action.chunks is not None:
        chunks = tuple(chunk.encode() for chunk in action.chunks)
        reply = Reply(action.status or 200, chunks, {"content-type": SSE_TYPE}, streamed=True)
    elif action.body is not None:
        reply = Reply(action.status or 200, (action.body,), {"content-type": JSON_TYPE})
    else:
        reply = _generated_reply(endpoint, recorded, action, body_size)
    return _with_headers(reply, action)


def request_model(endpoint: Endpoint | None, payload: object) -> str | None:
    if endpoint is not None and endpoint.path_model is not None:
        return endpoint.path_model
    model = payload.get("model") if isinstance(payload, dict) else None
    return model if isinstance(model, str) else None


def _generated_reply(
    endpoint: Endpoint | None, recorded: RecordedRequest, action: Action, body_size: int
) -> Reply:
    if endpoint is None:
        family = guess_family(recorded["path"], recorded["headers"])
        message = f"fake upstream: no endpoint {recorded['method']} {recorded['path']}"
        return _tag(_render_error(family, 404, message, recorded, None), family, recorded)
    if action.require_key is not None and action.require_key not in _credentials(recorded):
        reply = _render_error(endpoint.family, 401, "fake upstream: wrong key", recorded, endpoint)
    elif action.status is not None and action.status >= 400:
        message = f"fake upstream: scripted status {action.status}"
        reply = _render_error(endpoint.family, action.status, message, recorded, endpoint)
    elif endpoint.takes_json_body and not isinstance(recorded["json"], dict):
        message = "fake upstream: the request body is not a JSON object"
        reply = _render_error(endpoint.family, 400, message, recorded, endpoint)
    else:
        reply = _render_success(endpoint, recorded, action, body_size)
        if action.status is not None:
            reply = replace(reply, status=action.status)
    return _tag(reply, endpoint.family, recorded)


def _render_success(
    endpoint: Endpoint, recorded: RecordedRequest, action: Action, body_size: int
) -> Reply:
    payload: dict[str, Any] = recorded["json"] if isinstance(recorded["json"], dict) else {}
    completion = _completion(endpoint, recorded, action, body_size)
    stream = payload.get("stream") is True
    match endpoint.operation:
        case Operation.CHAT if stream:
            options = payload.get("stream_options") or {}
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            return openai_chat.render_stream(completion, include_usage=include_usage)
        case Operation.CHAT:
            return openai_chat.render_completion(completion)
        case Operation.RESPONSES if stream:
            return openai_responses.render_stream(completion, payload)
        case Operation.RESPONSES:
            return openai_responses.render_response(completion, payload)
        case Operation.RESPONSES_INPUT_TOKENS:
            return openai_responses.render_input_tokens(completion.usage)
        case Operation.OPENAI_MODELS:
            return openai_shared.render_models()
        case Operation.MESSAGES if stream:
            return anthropic_messages.render_stream(completion)
        case Operation.MESSAGES:
            return anthropic_messages.render_message(completion)
        case Operation.COUNT_TOKENS:
            return anthropic_messages.render_count_tokens(completion.usage)
        case Operation.ANTHROPIC_MODELS:
            return anthropic_messages.render_models()
        case Operation.GENERATE:
            return gemini.render_response(completion)
        case Operation.STREAM_GENERATE:
            return gemini.render_stream(completion, sse=recorded["query"].get("alt") == "sse")
        case Operation.GEMINI_COUNT_TOKENS:
            return gemini.render_count_tokens(completion.usage)
        case Operation.GEMINI_MODELS:
            return gemini.render_models()


def _completion(
    endpoint: Endpoint, recorded: RecordedRequest, action: Action, body_size: int
) -> Completion:
    pieces = action.pieces if action.pieces is not None else _DEFAULT_PIECES
    # Deterministic stand-ins for a tokenizer: about four bytes per input token, one token
    # per streamed piece.
    counts = {"input": max(1, body_size // 4), "output": len(pieces), **action.usage}
    model = request_model(endpoint, recorded["json"]) or "unknown-model"
    return Completion(recorded["id"], model, pieces, TokenUsage(**counts))


def _render_error(
    family: Family,
    status: int,
    message: str,
    recorded: RecordedRequest,
    endpoint: Endpoint | None,
) -> Reply:
    match family:
        case Family.OPENAI:
            return openai_shared.render_error(status, message)
        case Family.ANTHROPIC:
            return anthropic_messages.render_error(status, message, recorded["id"])
        case Family.GEMINI:
            # Streaming endpoints without alt=sse answer errors as a one-element array (5.9).
            as_array = (
                endpoint is not None
                and endpoint.operation is Operation.STREAM_GENERATE
                and recorded["query"].get("alt") != "sse"
            )
            return gemini.render_error(status, message, as_array=as_array)


def _tag(reply: Reply, family: Family, recorded: RecordedRequest) -> Reply:
    """Add the provider's request-id header, which gateways log and may pass through."""
    request_id = f"req_fake{recorded['id']}"
    match family:
        case Family.OPENAI:
            return replace(reply, headers={**reply.headers, "x-request-id": request_id})
        case Family.ANTHROPIC:
            return replace(reply, headers={**reply.headers, "request-id": request_id})
        case Family.GEMINI:
            return reply


def _with_headers(reply: Reply, action: Action) -> Reply:
    headers = dict(reply.headers)
    if action.content_type is not None:
        headers["content-type"] = action.content_type
    headers.update({name.lower(): value for name, value in action.headers.items()})
    return replace(reply, headers=headers)


def _credentials(recorded: RecordedRequest) -> set[str]:
    """Every key the request carries, in any provider's auth header (PROTOCOLS.md 1.2)."""
    headers = recorded["headers"]
    names = ("x-api-key", "x-goog-api-key", "api-key")
    found = {headers[name] for name in names if name in headers}
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        found.add(token.strip())
    if "key" in recorded["query"]:
        found.add(recorded["query"]["key"])
    return found
