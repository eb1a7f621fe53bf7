"""Canonical responses and stream events rendered as Gemini (PROTOCOLS.md 5.5, 8.5)."""

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
from app.protocols.gemini.usage import usage_to_dict

FINISH_REASON: dict[FinishReason, str] = {
    FinishReason.STOP: "STOP",
    FinishReason.STOP_SEQUENCE: "STOP",
    FinishReason.LENGTH: "MAX_TOKENS",
    FinishReason.TOOL_CALLS: "STOP",
    FinishReason.CONTENT_FILTER: "SAFETY",
    FinishReason.REFUSAL: "SAFETY",
    FinishReason.PAUSE: "STOP",
    FinishReason.CONTEXT_OVERFLOW: "MAX_TOKENS",
    FinishReason.ERROR: "OTHER",
}

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def encode_response(response: Response) -> bytes:
    return json.dumps(
        _chunk(
            response.id,
            response.model,
            [{"text": part.text} for part in response.parts if isinstance(part, TextPart)],
            finish=FINISH_REASON[response.finish],
            usage=usage_to_dict(response.usage),
        )
    )


class GeminiStreamEncoder:
    """Per-request encoder: SSE frames (``alt=sse``) or the elements of one JSON array."""

    __slots__ = ("_finish", "_id", "_model", "_sse", "_started_array")

    def __init__(self, *, sse: bool) -> None:
        self._sse = sse
        self._id = ""
        self._model = ""
        self._finish: Finish | None = None
        self._started_array = False

    def encode(self, event: StreamEvent) -> bytes:
        match event:
            case StreamStart():
                self._id, self._model = event.id, event.model
                return b"" if self._sse else self._start_array()
            case TextDelta() if event.text:
                return self._element(_chunk(self._id, self._model, [{"text": event.text}]))
            case Finish():
                self._finish = event
                return b""
            case UsageReport():
                finish = FINISH_REASON[(self._finish or Finish(FinishReason.STOP)).reason]
                return self._element(
                    _chunk(
                        self._id, self._model, [], finish=finish, usage=usage_to_dict(event.usage)
                    )
                )
            case StreamEnd():
                return b"" if self._sse else b"]"
            case StreamError():
                status = _STATUS.get(event.status, "INTERNAL")
                error = {
                    "error": {"code": event.status, "message": event.message, "status": status}
                }
                return self._element(error) + (b"" if self._sse else b"]")
            case PartStart() | PartStop() | TextDelta():
                return b""
        raise AssertionError(f"unhandled stream event {event!r}")

    def _start_array(self) -> bytes:
        return b"["

    def _element(self, payload: dict[str, Any]) -> bytes:
        if self._sse:
            return b"data: " + json.dumps(payload) + b"\r\n\r\n"
        separator = b",\r\n" if self._started_array else b""
        self._started_array = True
        return separator + json.dumps(payload)


def _chunk(
    response_id: str,
    model: str,
    parts: list[dict[str, Any]],
    *,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"index": 0}
    if parts:
        candidate["content"] = {"role": "model", "parts": parts}
    if finish is not None:
        candidate["finishReason"] = finish
    chunk: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": model,
        "responseId": response_id,
    }
    if usage is not None:
        chunk["usageMetadata"] = usage
    return chunk
