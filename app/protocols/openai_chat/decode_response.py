"""A Chat Completions reply from an upstream into the canonical ``Response`` (PROTOCOLS.md 2.4-2.6).

Parts come in the order a stream of the same reply produces them, so the
stream decoder folds to the same value: reasoning, text, refusal, tool calls.
Only the first choice is read: the gateway never asks an upstream for more.
"""

import logging
from typing import Any

from app.canonical.content import Part, ReasoningPart, RefusalPart, TextPart, ToolCallPart
from app.canonical.names import ToolNames
from app.canonical.response import FinishReason, Response
from app.canonical.usage import Usage
from app.core import json
from app.protocols.openai_chat.ids import mint_call_id, mint_completion_id
from app.protocols.openai_chat.usage import usage_from_dict

log = logging.getLogger("switchyard.translate")

# PROTOCOLS.md 7.12; the last three are what some OpenAI-compatible servers send.
FINISH_REASONS: dict[str, FinishReason] = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
    "max_tokens": FinishReason.LENGTH,
    "eos": FinishReason.STOP,
    "end_turn": FinishReason.STOP,
}


def decode_response(body: dict[str, Any], *, names: ToolNames) -> Response:
    choices = body.get("choices") or []
    choice: dict[str, Any] = choices[0] if choices and isinstance(choices[0], dict) else {}
    message: dict[str, Any] = choice.get("message") or {}
    parts = message_parts(message, names)
    usage = body.get("usage")
    return Response(
        id=reply_id(body),
        model=text_field(body, "model"),
        created=created(body),
        parts=parts,
        finish=finish_reason(
            choice.get("finish_reason"),
            called=any(isinstance(part, ToolCallPart) for part in parts),
            refused=any(isinstance(part, RefusalPart) for part in parts),
        ),
        usage=usage_from_dict(usage) if isinstance(usage, dict) else Usage(),
    )


def reply_id(body: dict[str, Any]) -> str:
    return text_field(body, "id") or mint_completion_id()


def text_field(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""


def created(body: dict[str, Any]) -> int:
    value = body.get("created")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def message_parts(message: dict[str, Any], names: ToolNames) -> list[Part]:
    parts: list[Part] = []
    reasoning = reasoning_text(message)
    if reasoning:
        parts.append(ReasoningPart(text=reasoning))
    content = message.get("content")
    if isinstance(content, str) and content:
        parts.append(TextPart(content))
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        parts.append(RefusalPart(refusal))
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        function = call.get("function") or {}
        parts.append(
            ToolCallPart(
                id=call.get("id") or mint_call_id(),
                name=names.inbound(function.get("name") or ""),
                arguments=arguments_text(function.get("arguments")),
            )
        )
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        parts.append(
            ToolCallPart(
                id=mint_call_id(),
                name=names.inbound(legacy.get("name") or ""),
                arguments=arguments_text(legacy.get("arguments")),
            )
        )
    return parts


def reasoning_text(fields: dict[str, Any]) -> str:
    """``reasoning_content`` (DeepSeek, older vLLM) or ``reasoning`` (newer vLLM,
    OpenRouter); servers that send both send the same text, so take one."""
    for key in ("reasoning_content", "reasoning"):
        value = fields.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def arguments_text(arguments: Any) -> str:
    """Canonical arguments: JSON text, ``{}`` when absent."""
    if isinstance(arguments, dict):  # some compatible servers send an object
        return json.dumps(arguments).decode()
    if not isinstance(arguments, str) or not arguments.strip():
        return "{}"
    return arguments


def finish_reason(raw: Any, *, called: bool, refused: bool) -> FinishReason:
    """7.12: tool_calls whenever a call was emitted (OpenAI itself may say ``stop``,
    GoModel#124); a refusal ending with a plain stop is a refusal."""
    if called:
        return FinishReason.TOOL_CALLS
    reason = FINISH_REASONS.get(raw) if isinstance(raw, str) else None
    if reason is None:
        if raw is not None:
            log.warning("unknown Chat finish_reason %r read as stop", raw)
        reason = FinishReason.STOP
    if reason is FinishReason.STOP and refused:
        return FinishReason.REFUSAL
    return reason
