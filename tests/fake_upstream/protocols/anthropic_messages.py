"""Anthropic Messages: `POST /v1/messages`, `/v1/messages/count_tokens` (PROTOCOLS.md 4.5-4.10)."""

from __future__ import annotations

from typing import Any

from .common import Completion, Reply, TokenUsage, json_reply, sse_event, sse_reply

# error.type per status (PROTOCOLS.md 4.9); any other 4xx is sent as invalid_request_error.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

MODELS = {
    "claude-sonnet-4-6": "Claude Sonnet 4.6",
    "claude-opus-4-6": "Claude Opus 4.6",
    "claude-haiku-4-5": "Claude Haiku 4.5",
}


def render_usage(usage: TokenUsage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input,
        "cache_creation_input_tokens": usage.cache_write,
        "cache_read_input_tokens": usage.cache_read,
        "output_tokens": usage.output,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_write,
            "ephemeral_1h_input_tokens": 0,
        },
        "service_tier": "standard",
    }


def render_message(completion: Completion) -> Reply:
    content = [{"type": "text", "text": completion.text}]
    body = _message(completion, content, "end_turn", render_usage(completion.usage))
    return json_reply(body)


def render_stream(completion: Completion) -> Reply:
    """message_start, one text block with a ping after its start, message_delta, message_stop."""
    start_usage = render_usage(completion.usage)
    # message_start reports a placeholder output count; message_delta carries the final,
    # cumulative one (4.8), so a consumer must take the later value.
    start_usage["output_tokens"] = min(1, completion.usage.output)
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"message": _message(completion, [], None, start_usage)}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("ping", {}),
    ]
    events += [
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}})
        for piece in completion.pieces
    ]
    events += [
        ("content_block_stop", {"index": 0}),
        ("message_delta", _message_delta(completion.usage)),
        ("message_stop", {}),
    ]
    return sse_reply([sse_event(kind, {"type": kind, **payload}) for kind, payload in events])


def render_count_tokens(usage: TokenUsage) -> Reply:
    return json_reply({"input_tokens": usage.input})


def render_error(status: int, message: str, request_id: int) -> Reply:
    error_type = _ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
    body = {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": f"req_fake{request_id}",
    }
    return json_reply(body, status=status)


def render_models() -> Reply:
    data = [
        {
            "type": "model",
            "id": model_id,
            "display_name": display_name,
            "created_at": "2025-01-01T00:00:00Z",
        }
        for model_id, display_name in MODELS.items()
    ]
    body = {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
    return json_reply(body)


def _message_delta(usage: TokenUsage) -> dict[str, Any]:
    return {
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": usage.output},
    }


def _message(
    completion: Completion,
    content: list[dict[str, Any]],
    stop_reason: str | None,
    usage: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": f"msg_fake{completion.request_id}",
        "type": "message",
        "role": "assistant",
        "model": completion.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }
