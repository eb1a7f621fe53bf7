"""Canonical responses and stream events rendered as Chat Completions (PROTOCOLS.md 2.4, 8.2)."""

from typing import Any

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
from app.protocols.openai_chat.usage import usage_to_dict

FINISH_REASON: dict[FinishReason, str] = {
    FinishReason.STOP: "stop",
    FinishReason.STOP_SEQUENCE: "stop",
    FinishReason.LENGTH: "length",
    FinishReason.TOOL_CALLS: "tool_calls",
    FinishReason.CONTENT_FILTER: "content_filter",
    FinishReason.REFUSAL: "content_filter",
    FinishReason.PAUSE: "stop",
    FinishReason.CONTEXT_OVERFLOW: "length",
    FinishReason.ERROR: "stop",
}

_ERROR_TYPE = {400: "invalid_request_error", 429: "rate_limit_error"}


def encode_response(response: Response) -> bytes:
    return json.dumps(
        {
            "id": response.id,
            "object": "chat.completion",
            "created": response.created,
            "model": response.model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": response.text,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": FINISH_REASON[response.finish],
                }
            ],
            "usage": usage_to_dict(response.usage),
        }
    )


class ChatStreamEncoder:
    """Per-request encoder: feed it canonical events, get ``data:`` chunks back."""

    __slots__ = ("_include_usage", "_prefix")

    def __init__(self, *, include_usage: bool) -> None:
        self._include_usage = include_usage
        self._prefix: dict[str, Any] = {}

    def encode(self, event: StreamEvent) -> bytes:
        match event:
            case StreamStart():
                self._prefix = {
                    "id": event.id,
                    "object": "chat.completion.chunk",
                    "created": event.created,
                    "model": event.model,
                }
                return self._chunk({"role": "assistant", "content": ""})
            case TextDelta() if event.text:
                return self._chunk({"content": event.text})
            case Finish():
                return self._chunk({}, FINISH_REASON[event.reason])
            case UsageReport() if self._include_usage:
                return _data({**self._prefix, "choices": [], "usage": usage_to_dict(event.usage)})
            case StreamEnd():
                return b"data: [DONE]\n\n"
            case StreamError():
                error_type = _ERROR_TYPE.get(event.status, "server_error")
                return _data(
                    {
                        "error": {
                            "message": event.message,
                            "type": error_type,
                            "param": None,
                            "code": event.kind,
                        }
                    }
                )
            case PartStart() | PartStop() | TextDelta() | UsageReport():
                return b""
        raise AssertionError(f"unhandled stream event {event!r}")

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _data({**self._prefix, "choices": [choice]})


def _data(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload) + b"\n\n"
