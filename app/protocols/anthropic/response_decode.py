"""Anthropic upstream replies into the canonical ``Response`` (PROTOCOLS.md 4.5-4.7, 7.12, 7.13).

Tool-call arguments become compact JSON text, the form the stream decoder
produces too, so a streamed reply folds into exactly this response.
"""

import logging
import time
from typing import Any

from app.canonical.content import (
    Part,
    Provider,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    read_signature,
)
from app.canonical.names import ToolNames
from app.canonical.response import FinishReason, Response
from app.core import json
from app.protocols.anthropic.signatures import redacted_signature
from app.protocols.anthropic.usage import usage_from_dict

log = logging.getLogger("switchyard.translate")

FINISH_REASON: dict[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP_SEQUENCE,
    "max_tokens": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "pause_turn": FinishReason.PAUSE,
    "refusal": FinishReason.REFUSAL,
    "model_context_window_exceeded": FinishReason.CONTEXT_OVERFLOW,
}


def decode_response(
    body: dict[str, Any], *, names: ToolNames, created: int | None = None
) -> Response:
    blocks = [_part(block, names) for block in body.get("content") or []]
    parts = [part for part in blocks if part is not None]
    calls = any(isinstance(part, ToolCallPart) for part in parts)
    finish, stop_sequence = finish_reason(body.get("stop_reason"), body.get("stop_sequence"), calls)
    return Response(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        created=int(time.time()) if created is None else created,
        parts=parts,
        finish=finish,
        stop_sequence=stop_sequence,
        usage=usage_from_dict(body.get("usage") or {}),
    )


def finish_reason(
    stop_reason: Any, stop_sequence: Any, tool_called: bool
) -> tuple[FinishReason, str | None]:
    """7.12: the upstream's reason, except that a reply holding a tool call is TOOL_CALLS."""
    if tool_called:
        return FinishReason.TOOL_CALLS, None
    known = isinstance(stop_reason, str) and stop_reason in FINISH_REASON
    reason = FINISH_REASON[stop_reason] if known else FinishReason.STOP
    if reason is FinishReason.STOP_SEQUENCE:
        return reason, stop_sequence if isinstance(stop_sequence, str) else None
    return reason, None


def tool_arguments(value: Any) -> str:
    return json.dumps(value if isinstance(value, dict) else {}).decode()


def _part(block: Any, names: ToolNames) -> Part | None:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":
        return TextPart(str(block.get("text") or ""))
    if kind == "thinking":
        signature = block.get("signature")
        return ReasoningPart(
            text=str(block.get("thinking") or ""),
            signature=read_signature(signature, Provider.ANTHROPIC) if signature else None,
        )
    if kind == "redacted_thinking":
        return ReasoningPart(signature=redacted_signature(str(block.get("data") or "")))
    if kind == "tool_use":
        return ToolCallPart(
            id=str(block.get("id") or ""),
            name=names.inbound(str(block.get("name") or "")),
            arguments=tool_arguments(block.get("input")),
        )
    # Server tool blocks only follow server tools, which a translated request never has.
    log.warning("dropped a Messages %r content block with no canonical form", kind)
    return None
