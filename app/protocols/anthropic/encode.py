"""Canonical responses and stream events rendered as Messages (PROTOCOLS.md 4.5, 8.4)."""

from typing import Any

from app.canonical.content import TextPart
from app.canonical.response import (
    Finish,
    FinishReason,
    PartStart,
    PartStop,
    Response,
    StreamEnd,
    StreamError,
    StreamEvent,
    StreamStart,
    TextDelta,
    UsageReport,
)
from app.core import json
from app.protocols.anthropic.usage import usage_to_dict

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

_ERROR_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def encode_response(response: Response) -> bytes:
    return json.dumps(
        {
            "id": response.id,
            "type": "message",
            "role": "assistant",
            "model": response.model,
            "content": [
                {"type": "text", "text": part.text}
                for part in response.parts
                if isinstance(part, TextPart)
            ],
            "stop_reason": STOP_REASON[response.finish],
            "stop_sequence": response.stop_sequence,
            "usage": usage_to_dict(response.usage),
        }
    )


class MessagesStreamEncoder:
    """Per-request encoder producing ``event:``/``data:`` frames; one open block at a time."""

    __slots__ = ("_finish",)

    def __init__(self) -> None:
        self._finish: Finish | None = None

    def encode(self, event: StreamEvent) -> bytes:
        match event:
            case StreamStart():
                message: dict[str, Any] = {
                    "id": event.id,
                    "type": "message",
                    "role": "assistant",
                    "model": event.model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": usage_to_dict(event.usage),
                }
                return _frame("message_start", {"type": "message_start", "message": message}) + (
                    _frame("ping", {"type": "ping"})
                )
            case PartStart():
                block = {"type": "text", "text": ""}
                return _frame(
                    "content_block_start",
                    {"type": "content_block_start", "index": event.index, "content_block": block},
                )
            case TextDelta() if event.text:
                delta = {"type": "text_delta", "text": event.text}
                return _frame(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": event.index, "delta": delta},
                )
            case PartStop():
                return _frame(
                    "content_block_stop", {"type": "content_block_stop", "index": event.index}
                )
            case Finish():
                self._finish = event
                return b""
            case UsageReport():
                return self._message_delta(event)
            case StreamEnd():
                return _frame("message_stop", {"type": "message_stop"})
            case StreamError():
                error_type = _ERROR_TYPE.get(event.status, "api_error")
                return _frame(
                    "error",
                    {"type": "error", "error": {"type": error_type, "message": event.message}},
                )
            case TextDelta():
                return b""
        raise AssertionError(f"unhandled stream event {event!r}")

    def _message_delta(self, event: UsageReport) -> bytes:
        finish = self._finish or Finish(FinishReason.STOP)
        delta = {"stop_reason": STOP_REASON[finish.reason], "stop_sequence": finish.stop_sequence}
        payload: dict[str, Any] = {
            "type": "message_delta",
            "delta": delta,
            "usage": usage_to_dict(event.usage),
        }
        return _frame("message_delta", payload)


def _frame(name: str, payload: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + json.dumps(payload) + b"\n\n"
