"""Output items and the response object a Responses client reads (PROTOCOLS.md 3.5, 8.3).

Shared by ``encode_response`` and the stream encoder, so a streamed reply's
``output_item.done`` items are exactly the items of its non-streamed twin.
Ids are minted with the prefixes OpenAI uses (3.5); ``call_id`` is the
canonical tool-call id, the one the client answers with.
"""

import logging
import secrets
from typing import Any

from app.canonical.content import (
    Part,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
)
from app.canonical.response import FinishReason
from app.canonical.usage import Usage
from app.core import json
from app.protocols.openai_responses.carrier import reasoning_secret
from app.protocols.openai_responses.usage import usage_to_dict

log = logging.getLogger("switchyard.translate")

_INCOMPLETE_REASON: dict[FinishReason, str] = {
    FinishReason.LENGTH: "max_output_tokens",
    FinishReason.CONTEXT_OVERFLOW: "max_output_tokens",
    FinishReason.CONTENT_FILTER: "content_filter",
}
# response.error.code values a client can act on: Codex classifies failures by
# them (PROTOCOLS.md 9.2); anything else is a server_error.
_KNOWN_CODES = frozenset(
    {
        "server_error",
        "rate_limit_exceeded",
        "context_length_exceeded",
        "insufficient_quota",
        "usage_not_included",
        "invalid_prompt",
    }
)
_KIND_CODES = {"rate_limit": "rate_limit_exceeded", "rate_limit_error": "rate_limit_exceeded"}
MODEL_FAILED = {"code": "server_error", "message": "The model failed to generate a response."}


def new_item_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def failure(kind: str, message: str) -> dict[str, str]:
    """``response.error`` for a stream error of canonical ``kind``."""
    code = kind if kind in _KNOWN_CODES else _KIND_CODES.get(kind, "server_error")
    return {"code": code, "message": message}


def text_content(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def refusal_content(text: str) -> dict[str, Any]:
    return {"type": "refusal", "refusal": text}


def message_item(
    item_id: str, content: list[dict[str, Any]], status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def reasoning_item(item_id: str, text: str, secret: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text}] if text else [],
    }
    if secret is not None:
        item["encrypted_content"] = secret
    return item


def function_call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def custom_call_item(item_id: str, call_id: str, name: str, text: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "custom_tool_call",
        "call_id": call_id,
        "name": name,
        "input": text,
    }


def custom_input(arguments: str) -> str:
    """A custom tool's raw input from canonical arguments ``{"input": ...}``."""
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("input"), str):
        return str(value["input"])
    log.warning("custom tool call without a string 'input' argument; sent the arguments as input")
    return arguments


def signature_carrier(signature: Signature | None) -> dict[str, Any] | None:
    """A tool call's own signature (Gemini thoughtSignature) as an empty reasoning item.

    Responses has no opaque field on a call, so the signature rides in the
    reasoning item right before it, which the client echoes back.
    """
    if signature is None:
        return None
    return reasoning_item(
        new_item_id("rs"), "", reasoning_secret(ReasoningPart(signature=signature))
    )


def call_item(part: ToolCallPart, custom: frozenset[str]) -> dict[str, Any]:
    if part.name in custom:
        return custom_call_item(
            new_item_id("ctc"), part.id, part.name, custom_input(part.arguments)
        )
    return function_call_item(new_item_id("fc"), part.id, part.name, part.arguments)


def output_items(parts: list[Part], custom: frozenset[str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            items.append(message_item(new_item_id("msg"), [text_content(part.text)]))
        elif isinstance(part, RefusalPart):
            items.append(message_item(new_item_id("msg"), [refusal_content(part.text)]))
        elif isinstance(part, ReasoningPart):
            items.append(reasoning_item(new_item_id("rs"), part.text, reasoning_secret(part)))
        elif isinstance(part, ToolCallPart):
            carrier = signature_carrier(part.signature)
            items += [carrier, call_item(part, custom)] if carrier else [call_item(part, custom)]
    return items


def response_object(
    response_id: str,
    model: str,
    created: int,
    request: dict[str, Any],
    *,
    output: list[dict[str, Any]],
    finish: FinishReason | None,
    usage: Usage | None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The Response object, echoing the client's request parameters as OpenAI does."""
    status, incomplete, error = _status(finish, error)
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": model,
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": request.get("reasoning") or {"effort": None, "summary": None},
        "store": request.get("store", True),
        "temperature": request.get("temperature", 1.0),
        "text": request.get("text") or {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p", 1.0),
        "truncation": request.get("truncation", "disabled"),
        "usage": usage_to_dict(usage) if usage is not None else None,
        "metadata": request.get("metadata") or {},
    }


def _status(
    finish: FinishReason | None, error: dict[str, Any] | None
) -> tuple[str, dict[str, str] | None, dict[str, Any] | None]:
    if finish is FinishReason.ERROR and error is None:
        error = MODEL_FAILED
    if error is not None:
        return "failed", None, error
    if finish is None:
        return "in_progress", None, None
    reason = _INCOMPLETE_REASON.get(finish)
    return ("incomplete", {"reason": reason}, None) if reason else ("completed", None, None)
