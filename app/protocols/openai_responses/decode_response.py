"""An upstream Responses body, in canonical form (PROTOCOLS.md 3.5, 7.12, 7.13).

The helpers here are shared with the stream decoder, which falls back to the
complete items of ``output_item.done`` / the terminal event, so a stream and
its non-streamed twin fold to the same reply.
"""

from typing import Any

from app.canonical.content import (
    Part,
    Provider,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
)
from app.canonical.names import ToolNames
from app.canonical.response import FinishReason, Response
from app.canonical.usage import Usage
from app.core import json
from app.protocols.openai_responses.usage import usage_from_dict

# HTTP status a Responses error code stands for, for StreamError (PROTOCOLS.md 7.14).
_ERROR_STATUS = {
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "context_length_exceeded": 400,
    "invalid_prompt": 400,
    "invalid_request_error": 400,
    "server_error": 500,
}


def decode_response(body: dict[str, Any], *, names: ToolNames) -> Response:
    parts = [part for item in body.get("output") or [] for part in item_parts(item, names)]
    return Response(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        created=int(body.get("created_at") or 0),
        parts=parts,
        finish=finish_reason(
            body,
            tool_call=any(isinstance(p, ToolCallPart) for p in parts),
            refusal=any(isinstance(p, RefusalPart) for p in parts),
        ),
        usage=response_usage(body),
    )


def item_parts(item: dict[str, Any], names: ToolNames) -> list[Part]:
    """The canonical parts of one output item; built-in tool items have none."""
    kind = item.get("type")
    if kind == "message":
        return [part for content in item.get("content") or [] if (part := _content(content))]
    if kind in ("function_call", "custom_tool_call"):
        return [
            ToolCallPart(
                str(item.get("call_id")), names.inbound(str(item.get("name"))), call_arguments(item)
            )
        ]
    if kind == "reasoning":
        text, secret = reasoning_text(item), item.get("encrypted_content")
        if text or secret:
            return [ReasoningPart(text, Signature(Provider.OPENAI, secret) if secret else None)]
    return []


def _content(content: dict[str, Any]) -> Part | None:
    if content.get("type") == "output_text" and content.get("text"):
        return TextPart(content["text"])
    if content.get("type") == "refusal" and content.get("refusal"):
        return RefusalPart(content["refusal"])
    return None


def call_arguments(item: dict[str, Any]) -> str:
    """A call's canonical JSON arguments: a custom tool's raw input becomes ``{"input": ...}``."""
    if item.get("type") == "custom_tool_call":
        return json.dumps({"input": item.get("input") or ""}).decode()
    return item.get("arguments") or "{}"


def reasoning_text(item: dict[str, Any]) -> str:
    """Summary parts joined by blank lines, else the raw ``reasoning_text`` content."""
    summary = [part.get("text") or "" for part in item.get("summary") or []]
    content = [part.get("text") or "" for part in item.get("content") or []]
    return "\n\n".join(summary or content)


def finish_reason(response: dict[str, Any], *, tool_call: bool, refusal: bool) -> FinishReason:
    """Responses has no finish reason: it follows from status and the items (7.12)."""
    if tool_call:
        return FinishReason.TOOL_CALLS
    status = response.get("status")
    if status == "incomplete":
        details = response.get("incomplete_details") or {}
        if details.get("reason") == "content_filter":
            return FinishReason.CONTENT_FILTER
        return FinishReason.LENGTH
    if status == "failed":
        return FinishReason.ERROR
    return FinishReason.REFUSAL if refusal else FinishReason.STOP


def response_usage(response: dict[str, Any]) -> Usage:
    usage = response.get("usage")
    return usage_from_dict(usage) if isinstance(usage, dict) else Usage()


def error_status(code: str) -> int:
    return _ERROR_STATUS.get(code, 500)
