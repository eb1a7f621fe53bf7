"""Canonical replies as a Messages body for Anthropic clients (PROTOCOLS.md 4.5, 7.11, 7.12).

Reasoning becomes ``thinking`` blocks whatever provider produced it: the
text shows as thinking, and a foreign signature rides in
``thinking.signature`` wrapped by ``carry`` so that it comes back on the next
turn. A Gemini signature on a function call has no field on ``tool_use``, so
it rides in an empty ``thinking`` block just before the call (the agreement
all protocol packages share).
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
from app.canonical.response import FinishReason, Response
from app.core import json
from app.protocols.anthropic.signatures import client_signature, redacted_data
from app.protocols.anthropic.usage import usage_to_dict

log = logging.getLogger("switchyard.translate")

STOP_REASON: dict[FinishReason, str] = {
    FinishReason.STOP: "end_turn",
    FinishReason.STOP_SEQUENCE: "stop_sequence",
    FinishReason.LENGTH: "max_tokens",
    FinishReason.TOOL_CALLS: "tool_use",
    FinishReason.CONTENT_FILTER: "refusal",
    FinishReason.REFUSAL: "refusal",
    FinishReason.PAUSE: "pause_turn",
    FinishReason.CONTEXT_OVERFLOW: "model_context_window_exceeded",
    FinishReason.ERROR: "end_turn",
}

# Reasons a reply that called a tool still reports as is; anything else is tool_use (8.4).
_KEPT_WITH_TOOL_CALLS = frozenset(
    {FinishReason.LENGTH, FinishReason.CONTEXT_OVERFLOW, FinishReason.PAUSE}
)


def encode_response(response: Response, *, include_thinking: bool = True) -> bytes:
    """``include_thinking=False`` sends reasoning as ``display: "omitted"`` would:
    signatures kept, text left out."""
    content = [block for part in response.parts for block in blocks(part, include_thinking)]
    called = any(block["type"] == "tool_use" for block in content)
    stop_reason = stop_reason_for(response.finish, called)
    return json.dumps(
        {
            "id": message_id(response.id),
            "type": "message",
            "role": "assistant",
            "model": response.model,
            # An empty reply is still a message with content (8.4).
            "content": content or [{"type": "text", "text": ""}],
            "stop_reason": stop_reason,
            "stop_sequence": response.stop_sequence if stop_reason == "stop_sequence" else None,
            "usage": usage_to_dict(response.usage),
        }
    )


def message_id(upstream_id: str) -> str:
    return upstream_id or f"msg_{secrets.token_hex(12)}"


def stop_reason_for(finish: FinishReason, tool_called: bool) -> str:
    if tool_called and finish not in _KEPT_WITH_TOOL_CALLS:
        return "tool_use"
    return STOP_REASON[finish]


def blocks(part: Part, include_thinking: bool = True) -> list[dict[str, Any]]:
    """The content blocks standing for one reply part (none for an empty one)."""
    if isinstance(part, TextPart | RefusalPart):
        return [{"type": "text", "text": part.text}] if part.text else []
    if isinstance(part, ReasoningPart):
        return reasoning_blocks(part, include_thinking)
    if isinstance(part, ToolCallPart):
        return [
            *signature_carrier(part.signature),
            tool_use_block(part.id, part.name, tool_input(part.arguments)),
        ]
    log.warning("dropped a %s from a model reply", type(part).__name__)
    return []


def reasoning_blocks(part: ReasoningPart, include_thinking: bool = True) -> list[dict[str, Any]]:
    data = redacted_data(part)
    if data is not None:
        return [{"type": "redacted_thinking", "data": data}]
    text = part.text if include_thinking else ""
    if not text and part.signature is None:
        return []
    signature = client_signature(part.signature) if part.signature else ""
    return [{"type": "thinking", "thinking": text, "signature": signature}]


def signature_carrier(signature: Signature | None) -> list[dict[str, Any]]:
    if signature is None:
        return []
    return [{"type": "thinking", "thinking": "", "signature": client_signature(signature)}]


def tool_use_block(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def tool_input(arguments: str) -> dict[str, Any]:
    """Arguments text as the object ``tool_use.input`` must be (invalid -> ``{}``, E31)."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        return value
    log.warning("tool call arguments are not a JSON object, sent as {}: %.200s", arguments)
    return {}
